#!/bin/sh
# ecs-anywhere %preun ($1: 0 = erase, 1 or more = upgrade). On erase, disable and stop the
# timer and stop a running reconcile (like %systemd_preun). The host's registration (SSM
# and ECS agents, /var/lib/ecs-anywhere) is left alone: `ecs-anywhere deregister` is how
# a host leaves ECS.
if [ "$1" -eq 0 ]; then
    if [ -d /run/systemd/system ]; then
        systemctl disable --now ecs-anywhere.timer || :
        systemctl stop ecs-anywhere.service || :
    else
        systemctl disable ecs-anywhere.timer || :
    fi
fi
exit 0
