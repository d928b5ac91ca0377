#!/bin/sh
# ecs-anywhere %postun ($1: 0 = erase, 1 or more = upgrade). Reload unit files after the
# package's units changed or went away. rpm has no purge: a modified config.toml is kept
# as config.toml.rpmsave, and /var/lib/ecs-anywhere stays.
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || :
fi
exit 0
