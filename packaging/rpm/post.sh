#!/bin/sh
# ecs-anywhere %post ($1: 1 = first install, 2 or more = upgrade). First install: enable
# ecs-anywhere.timer through the preset (like %systemd_post); it starts at the next boot or
# when the operator starts it. Upgrade: reload unit files only; nothing is restarted (the
# next reconcile runs the new binary). Safe without a running systemd (image builds).
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || :
fi
if [ "$1" -eq 1 ]; then
    systemctl preset ecs-anywhere.timer || :
fi
exit 0
