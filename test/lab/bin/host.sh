#!/usr/bin/env bash
# One storage host of a running lab:
#   host.sh crash NAME   cut its power: SIGKILL to its UML process group (no sync, no shutdown)
#   host.sh boot NAME    boot it again with the same disks, keys and address; waits for ssh
# For tests of a host that dies mid-copy and comes back.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root
[ $# -eq 2 ] || die "usage: host.sh crash|boot NAME"
action=$1 name=$2
[ -n "${LAB_TAP[$name]:-}" ] || die "no lab host $name (hosts: ${LAB_HOSTS[*]})"
[ -e "/run/netns/$LAB_NETNS" ] || die "the lab is not running (no namespace $LAB_NETNS)"
dir="$RUN_DIR/$name"
take_lock
case "$action" in
  crash)
    [ -f "$dir/uml.pid" ] || die "$name is not running"
    pid=$(cat "$dir/uml.pid")
    is_lab_uml "$pid" "$name" || die "$name: pid $pid is not its UML kernel"
    log "$name: power cut (SIGKILL to process group $pid)"
    kill -KILL -- "-$pid"
    wait_gone "$pid" 10 || die "$name: UML pid $pid is still running"
    rm -f "$dir/uml.pid"
    ;;
  boot)
    if [ -f "$dir/uml.pid" ] && is_lab_uml "$(cat "$dir/uml.pid")" "$name"; then
      die "$name is already running"
    fi
    : >"$dir/console.log"
    boot "$name"
    wait_ready "$name"
    # lab.json records the pid lab:stop and the tests use.
    node -e '
      const fs = require("fs");
      const [file, name, pid] = process.argv.slice(1);
      const lab = JSON.parse(fs.readFileSync(file, "utf8"));
      lab.hosts.find((h) => h.name === name).pid = Number(pid);
      fs.writeFileSync(file, JSON.stringify(lab, null, 2) + "\n");
    ' "$RUN_DIR/lab.json" "$name" "$(cat "$dir/uml.pid")"
    ;;
  *) die "usage: host.sh crash|boot NAME" ;;
esac
