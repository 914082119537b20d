#!/usr/bin/env bash
# Stop the lab: power off each guest, end its UML process group by the recorded pid, remove the
# taps, the bridge and the network namespace, and the run's disks and keys. Console logs stay.
# Safe to run when nothing is running, and to run twice.
#   --quiet  say nothing when there is nothing to stop
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root
quiet=0
[ "${1:-}" = "--quiet" ] && quiet=1
take_lock

# Is any process of process group PGID a UML process of host NAME?
group_is_lab_uml() {
  local pgid=$1 name=$2 p
  for p in $(pgrep -g "$pgid" 2>/dev/null); do
    is_lab_uml "$p" "$name" && return 0
  done
  return 1
}

# Power off host NAME from inside (sysrq o, detached so that ssh returns at once).
power_off() {
  local name=$1
  timeout 10 ip netns exec "$LAB_NETNS" ssh -i "$RUN_DIR/keys/client_ed25519" \
    -o UserKnownHostsFile="$RUN_DIR/keys/known_hosts" -o StrictHostKeyChecking=yes \
    -o BatchMode=yes -o ConnectTimeout=3 -o LogLevel=ERROR "root@${LAB_ADDR[$name]}" \
    'sync; nohup sh -c "sleep 0.5; echo o > /proc/sysrq-trigger" >/dev/null 2>&1 &' \
    </dev/null >/dev/null 2>&1
}

# End host NAME's UML process group (pid in uml.pid) if it is still there.
end_host() {
  local name=$1 powered_off=$2 dir="$RUN_DIR/$1" pid
  pid=$(cat "$dir/uml.pid")
  if is_lab_uml "$pid" "$name"; then
    if [ "$powered_off" != 1 ] || ! wait_gone "$pid" 20; then
      log "$name: ending its UML process group $pid"
      kill -TERM -- "-$pid" 2>/dev/null || true
      wait_gone "$pid" 5 || kill -KILL -- "-$pid" 2>/dev/null || true
      wait_gone "$pid" 5 || die "$name: UML pid $pid is still running"
    fi
  fi
  # The kernel is gone; end any of its helpers left in its process group.
  if group_is_lab_uml "$pid" "$name"; then
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$dir/uml.pid"
}

did=0
declare -A asked=()
declare -A ssh_pid=()
for name in "${LAB_HOSTS[@]}"; do
  [ -f "$RUN_DIR/$name/uml.pid" ] || continue
  did=1
  pid=$(cat "$RUN_DIR/$name/uml.pid")
  if is_lab_uml "$pid" "$name" && [ -e "/run/netns/$LAB_NETNS" ]; then
    log "stopping $name (UML pid $pid)"
    power_off "$name" &
    ssh_pid[$name]=$!
  fi
done
for name in "${!ssh_pid[@]}"; do
  if wait "${ssh_pid[$name]}"; then asked[$name]=1; fi
done
for name in "${LAB_HOSTS[@]}"; do
  [ -f "$RUN_DIR/$name/uml.pid" ] || continue
  end_host "$name" "${asked[$name]:-0}"
done

if [ -e "/run/netns/$LAB_NETNS" ]; then
  did=1
  log "removing network namespace $LAB_NETNS"
  for name in "${LAB_HOSTS[@]}"; do
    in_netns ip link del "${LAB_TAP[$name]}" 2>/dev/null || true
  done
  in_netns ip link del "$LAB_BRIDGE" 2>/dev/null || true
  ip netns del "$LAB_NETNS"
fi

if [ -d "$RUN_DIR" ]; then
  rm -f "$RUN_DIR/lab.json"
  rm -rf "$RUN_DIR/keys"
  for name in "${LAB_HOSTS[@]}"; do
    rm -rf "$RUN_DIR/$name/seed" "$RUN_DIR/$name/uml"
    rm -f "$RUN_DIR/$name/pv1.img" "$RUN_DIR/$name/pv2.img" "$RUN_DIR/$name/root.cow"
  done
fi

if [ "$did" = 1 ]; then
  log "stopped"
elif [ "$quiet" = 0 ]; then
  log "nothing to stop"
fi
