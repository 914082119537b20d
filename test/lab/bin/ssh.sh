#!/usr/bin/env bash
# ssh to a lab host from inside the lab's namespace, host key verified: ssh.sh host-a [command...]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root
[ "$#" -ge 1 ] || die "usage: npm run lab:ssh -- HOST [COMMAND...]  (hosts: ${LAB_HOSTS[*]})"
host=$1
shift
[ -n "${LAB_ADDR[$host]:-}" ] || die "no lab host $host (hosts: ${LAB_HOSTS[*]})"
[ -f "$RUN_DIR/lab.json" ] || die "the lab is not running: npm run lab:start"
lab_ssh "$host" "$@"
