"""The front WSGI app: ledger, faults, authentication and authorization,
the extended operations, and everything else forwarded to moto."""

from __future__ import annotations

import io
from http import HTTPStatus
import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterable
from urllib.parse import parse_qs

from moto import settings as moto_settings
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.utilities.utils import get_partition
from werkzeug.datastructures import EnvironHeaders

from . import auth, control, ecs_ext, iam_checks, nodeauth, resources, ssm_ext
from .clock import Clock
from .context import FORWARD, CallCtx
from .errors import JSON_CONTENT_TYPE, AwsError, new_request_id, render
from .identities import Identities
from .state import Config, ExtensionState, Faults, Ledger, ledger_entry

log = logging.getLogger("ecs_anywhere_emulator")

TARGET_PREFIXES = {
    "AmazonSSM": "ssm",
    "AmazonEC2ContainerServiceV20141113": "ecs",
}
QUERY_VERSIONS = {"2010-05-08": "iam", "2011-06-15": "sts"}
EXTENSIONS = {"ssm": ssm_ext.HANDLERS, "ecs": ecs_ext.HANDLERS}
IAM_PROPAGATING_ACTIONS = {"CreateRole", "UpdateAssumeRolePolicy"}


@dataclass
class Call:
    service: str
    operation: str
    protocol: str  # "json" | "query" | "rest"
    region: str | None
    params: dict[str, Any] = field(default_factory=dict)
    form: dict[str, list[str]] = field(default_factory=dict)
    json_error: AwsError | None = None


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        try:
            return stream.read(int(length))
        except ValueError:
            return b""
    if environ.get("wsgi.input_terminated") or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return stream.read()
    return b""


def classify(environ: dict[str, Any], body: bytes, default_region: str) -> Call:
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    scope = auth.parse_scope(authorization) if authorization else None
    scope_service = scope[3] if scope else None
    region = scope[2] if scope else None
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target and "." in target:
        prefix, op = target.split(".", 1)
        service = TARGET_PREFIXES.get(prefix) or scope_service or prefix.lower()
        call = Call(service, op, "json", region)
        if body:
            try:
                parsed = json.loads(body)
                if not isinstance(parsed, dict):
                    raise ValueError
                call.params = parsed
            except ValueError:
                call.json_error = AwsError("SerializationException", "Start of structure or map found where not expected.")
        return call
    ctype = environ.get("CONTENT_TYPE", "")
    form: dict[str, list[str]] = {}
    if "x-www-form-urlencoded" in ctype and body:
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    if not form and environ.get("QUERY_STRING"):
        form = parse_qs(environ["QUERY_STRING"], keep_blank_values=True)
    action = (form.get("Action") or [None])[0]
    if action:
        version = (form.get("Version") or [None])[0]
        service = scope_service or QUERY_VERSIONS.get(version or "") or (
            "sts" if action in auth.UNSIGNED_STS_ACTIONS else "unknown"
        )
        return Call(service, action, "query", region, params={k: v[0] for k, v in form.items()}, form=form)
    method = environ.get("REQUEST_METHOD", "GET")
    return Call(scope_service or "unknown", f"{method} {environ.get('PATH_INFO', '/')}", "rest", region)


def _error_code(status: int, headers: Iterable[tuple[str, str]], body: bytes) -> str | None:
    if status < 400:
        return None
    for k, v in headers:
        if k.lower() == "x-amzn-errortype" and v:
            return v.split(":")[0]
    try:
        data = json.loads(body)
        t = data.get("__type") or data.get("code")
        if t:
            return str(t).split("#")[-1]
    except (ValueError, AttributeError):
        pass
    m = re.search(rb"<Code>([^<]+)</Code>", body)
    if m:
        return m.group(1).decode()
    return f"HTTP{status}"


class Emulator:
    def __init__(self, region: str, config: Config) -> None:
        self.region = region
        self.default_config = Config(**config.as_dict())
        self.config = config
        self.clock = Clock()
        self.ledger = Ledger()
        self.faults = Faults()
        self.ext = ExtensionState()
        self.identities = Identities(region)
        self.lock = threading.RLock()
        self.moto_app = DomainDispatcherApplication(create_backend_app)
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
        self.identities.bootstrap()

    # --- lifecycle ---------------------------------------------------------------

    def warm_up(self) -> None:
        """Build moto's per-service apps now rather than on the first call."""
        for service in ("iam", "sts", "ssm", "ecs"):
            self.moto_app.get_application(
                {"PATH_INFO": "/", "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential=X/20200101/{self.region}/{service}/aws4_request, SignedHeaders=host, Signature=x"}
            )

    def reset(self) -> None:
        with self.lock:
            reset_moto()
            moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
            self.ext.reset()
            self.ledger.clear()
            self.faults.clear()
            self.clock.reset()
            self.config.__dict__.update(self.default_config.as_dict())
            self.identities.bootstrap()

    # --- WSGI ----------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_emulator/") or path == "/_emulator":
            status, headers, body = control.handle(self, environ, _read_body(environ))
        else:
            status, headers, body = self.handle_aws(environ)
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        start_response(f"{status} {reason}", headers)
        return [body]

    def handle_aws(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        started_wall = time.monotonic()
        started = self.clock.now()
        body = _read_body(environ)
        call = classify(environ, body, self.region)
        request_id = new_request_id()
        latency_ms, fault = self.faults.pick(call.service, call.operation)
        if latency_ms:
            time.sleep(latency_ms / 1000.0)
        identity = "anonymous"
        if fault is not None:
            identity = auth.peek_identity(environ.get("HTTP_AUTHORIZATION"))
            err = AwsError(fault.error or "InternalServerError", fault.message, fault.status)
            status, headers, out = render(err, call.protocol, call.service, request_id)
            error = err.code
        else:
            with self.lock:
                status, headers, out, identity, error = self.dispatch(call, environ, body, request_id)
        self.ledger.record(
            ledger_entry(
                service=call.service,
                operation=call.operation,
                identity=identity,
                status=status,
                error=error,
                duration_ms=(time.monotonic() - started_wall) * 1000.0,
                started=started,
                region=call.region or self.region,
                request_id=request_id,
                fault=fault is not None,
            )
        )
        return status, headers, out

    def dispatch(
        self, call: Call, environ: dict[str, Any], body: bytes, request_id: str
    ) -> tuple[int, list[tuple[str, str]], bytes, str, str | None]:
        identity = "anonymous"
        try:
            handler = EXTENSIONS.get(call.service, {}).get(call.operation) if call.protocol == "json" else None
            if handler is not None and call.json_error is not None:
                raise call.json_error
            headers = EnvironHeaders(environ)
            caller: auth.Caller | None = None
            node = None
            if handler is not None and call.service == "ssm" and call.operation in ssm_ext.UNSIGNED:
                pass  # the agent's registration call is anonymous
            elif handler is not None and call.service == "ssm" and call.operation in ssm_ext.RSA_SIGNED:
                node = self._node_auth(environ, body)
                identity = node_arn(node)
            elif not headers.get("Authorization"):
                if call.protocol == "query" and call.operation in auth.UNSIGNED_STS_ACTIONS:
                    pass
                else:
                    raise auth.auth_error("missing", call.protocol)
            else:
                identity = "unauthenticated"
                path = environ.get("PATH_INFO", "/") or "/"
                if environ.get("QUERY_STRING"):
                    path += "?" + environ["QUERY_STRING"]
                caller = auth.authenticate(
                    method=environ.get("REQUEST_METHOD", "POST"),
                    path=path,
                    headers=headers,
                    body=body,
                    form=call.form,
                    action=call.operation,
                    protocol=call.protocol,
                    now_naive_utc=self.clock.now_naive_utc(),
                )
                identity = caller.arn

            region = call.region or (node.region if node else None) or self._unsigned_region(call)
            account = caller.account_id if caller else (node.account_id if node else DEFAULT_ACCOUNT_ID)
            ctx = CallCtx(
                app=self,
                service=call.service,
                operation=call.operation,
                protocol=call.protocol,
                payload=call.params,
                region=region,
                account=account,
                partition=get_partition(region),
                caller=caller,
                node=node,
            )
            if handler is not None:
                result = handler(ctx)
                if result is not FORWARD:
                    out = json.dumps(result).encode()
                    return (
                        200,
                        [
                            ("Content-Type", JSON_CONTENT_TYPE),
                            ("x-amzn-RequestId", request_id),
                            ("Content-Length", str(len(out))),
                        ],
                        out,
                        identity,
                        None,
                    )
            if caller is not None and call.protocol in ("json", "query"):
                action = f"{call.service}:{call.operation}"
                for resource in resources.resolve(
                    call.service,
                    call.operation,
                    call.params,
                    region=region,
                    account=account,
                    partition=ctx.partition,
                ):
                    ctx.authorize(action, resource)
                iam_checks.check_before_forward(call.service, call.operation, call.params)
            status, headers_out, out = self.forward(environ, body, moto_auth=caller is not None and call.protocol == "rest")
            if call.service == "iam" and call.operation in IAM_PROPAGATING_ACTIONS and status == 200:
                role_name = call.params.get("RoleName")
                if role_name:
                    self.ext.role_changed[role_name] = self.clock.now()
            return status, headers_out, out, identity, _error_code(status, headers_out, out)
        except AwsError as err:
            status, headers_out, out = render(err, call.protocol, call.service, request_id)
            return status, headers_out, out, identity, err.code
        except NotImplementedError as e:
            # Not an AWS behaviour: make the gap loud and non-retryable rather than a 500.
            log.warning("not implemented by the emulator: %s.%s (%s)", call.service, call.operation, e)
            err = AwsError(
                "EmulatorNotImplemented",
                f"The emulator (moto 5.2.5 + extensions) does not implement {call.service}:{call.operation}.",
                400,
            )
            status, headers_out, out = render(err, call.protocol, call.service, request_id)
            return status, headers_out, out, identity, err.code
        except Exception:  # noqa: BLE001 - a bug must look like AWS's 500, not a traceback page
            log.exception("internal error handling %s.%s", call.service, call.operation)
            err = AwsError("InternalFailure", "The request processing has failed because of an unknown error.", 500)
            status, headers_out, out = render(err, call.protocol, call.service, request_id)
            return status, headers_out, out, identity, err.code

    def _unsigned_region(self, call: Call) -> str:
        # RegisterManagedInstance carries no signature: use the activation's region.
        activation = self.ext.activations.get(str(call.params.get("ActivationId", "")))
        return activation.region if activation else self.region

    def _node_auth(self, environ: dict[str, Any], body: bytes):
        headers = EnvironHeaders(environ)
        try:
            parsed = nodeauth.parse_authorization(headers.get("Authorization"))
        except nodeauth.NodeAuthError as e:
            if e.kind == "missing":
                raise auth.auth_error("missing", "json") from None
            raise AwsError("IncompleteSignatureException", e.detail) from None
        node = self.ext.nodes.get(parsed.instance_id)
        if node is None or node.deregistered or node.region != parsed.region:
            raise AwsError(
                "InvalidInstanceId",
                f"Instance Id {parsed.instance_id} is not valid.",
                message_key="Message",
            )
        lowered: dict[str, list[str]] = {}
        for k, v in headers.items():
            lowered.setdefault(k.lower(), []).append(v)
        try:
            nodeauth.verify_request(
                parsed=parsed,
                public_key_b64=node.public_key,
                method=environ.get("REQUEST_METHOD", "POST"),
                path=environ.get("PATH_INFO", "/") or "/",
                query=environ.get("QUERY_STRING", ""),
                headers=lowered,
                body=body,
            )
        except nodeauth.NodeAuthError as e:
            if e.kind == "signature":
                raise auth.auth_error("signature", "json") from None
            raise AwsError("IncompleteSignatureException", e.detail) from None
        return node

    def forward(self, environ: dict[str, Any], body: bytes, moto_auth: bool) -> tuple[int, list[tuple[str, str]], bytes]:
        env = dict(environ)
        env["wsgi.input"] = io.BytesIO(body)
        env["CONTENT_LENGTH"] = str(len(body))
        env.pop("HTTP_TRANSFER_ENCODING", None)
        env["wsgi.input_terminated"] = False
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            captured["status"] = status
            captured["headers"] = headers
            return lambda data: None

        # Services we do not authorize ourselves (REST protocols) keep moto's own check.
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = 0 if moto_auth else float("inf")
        try:
            result = self.moto_app(env, start_response)
            try:
                out = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close:
                    close()
        finally:
            moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
        status = int(str(captured.get("status", "500")).split()[0])
        headers = [
            (k, v)
            for k, v in captured.get("headers", [])
            if k.lower() not in ("content-length", "status", "connection", "transfer-encoding")
        ]
        headers.append(("Content-Length", str(len(out))))
        return status, headers, out


def reset_moto() -> None:
    """moto's own reset re-initialises every backend (reloading all AWS managed
    policies per IAM partition) and then throws them away; dropping them is
    the same fresh state, created again lazily on first use."""
    from moto.core.base_backend import BackendDict, backend_lock
    from moto.core.model_instances import reset_model_data

    with backend_lock:
        for backend in BackendDict._instances:
            backend.clear()
        BackendDict._instances.clear()
    reset_model_data()


def node_arn(node) -> str:
    return f"arn:{get_partition(node.region)}:ssm:{node.region}:{node.account_id}:managed-instance/{node.instance_id}"

