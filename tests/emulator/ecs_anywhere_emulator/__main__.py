"""Run the emulator: `python -m ecs_anywhere_emulator [--port N] [--region R]
[--iam-propagation-delay S]`. Prints the `export` lines on stdout once it
accepts requests, logs on stderr, and exits 0 on SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time


def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="emulator", description=__doc__)
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = pick a free one)")
    p.add_argument("--region", default="us-east-1", help="default region (printed as AWS_REGION)")
    p.add_argument("--iam-propagation-delay", type=float, default=0.0, metavar="SECONDS",
                   help="seconds after CreateRole/UpdateAssumeRolePolicy during which CreateActivation "
                        "with that role fails like AWS's eventual consistency")
    p.add_argument("--ping-timeout", type=float, default=300.0, metavar="SECONDS",
                   help="a managed node is ConnectionLost when its last ping is older than this")
    p.add_argument("--heartbeat-timeout", type=float, default=60.0, metavar="SECONDS",
                   help="a container instance is agentConnected=false when its last heartbeat is older")
    p.add_argument("--log-level", default=os.environ.get("EMULATOR_LOG_LEVEL", "WARNING"))
    args = p.parse_args(argv)
    if not 0 <= args.port <= 65535:
        p.error("--port must be 0..65535")
    for name in ("iam_propagation_delay", "ping_timeout", "heartbeat_timeout"):
        if getattr(args, name) < 0:
            p.error(f"--{name.replace('_', '-')} must be >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    level = getattr(logging, str(args.log_level).upper(), logging.WARNING)
    logging.basicConfig(
        stream=sys.stderr,
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("werkzeug").setLevel(level)
    # Must be set before moto builds its IAM backend.
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "false")

    started = time.monotonic()
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    from .app import Emulator
    from .state import Config

    config = Config(
        iam_propagation_delay=args.iam_propagation_delay,
        ping_timeout=args.ping_timeout,
        heartbeat_timeout=args.heartbeat_timeout,
    )
    emulator = Emulator(args.region, config)
    emulator.warm_up()
    server = make_server("127.0.0.1", args.port, emulator, threaded=True, request_handler=MotoRequestHandler)
    port = server.server_port

    stop = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    thread = threading.Thread(target=server.serve_forever, name="emulator-http", daemon=True)
    thread.start()
    logging.getLogger("ecs_anywhere_emulator").warning(
        "emulator listening on 127.0.0.1:%d (region %s) after %.2fs", port, args.region, time.monotonic() - started
    )
    sys.stdout.write("\n".join(emulator.identities.exports(f"http://127.0.0.1:{port}")) + "\n")
    sys.stdout.flush()

    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
