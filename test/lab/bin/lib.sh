# shellcheck shell=bash
# shellcheck disable=SC2034 # the settings are used by the scripts that source this file
# Shared settings and helpers of the LVM lab scripts (sourced, not run).
# Everything the lab makes lives in test/lab/.cache/ (gitignored):
#   img/   the cached root image (root.img) and its cache key (stamp)
#   build/ debootstrap leftovers of the last image build
#   run/   one lab run: keys, per-host disks, COW files, console logs, pids, lab.json

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_DIR="$LAB_DIR/.cache"
IMG_DIR="$CACHE_DIR/img"
BUILD_DIR="$CACHE_DIR/build"
RUN_DIR="$CACHE_DIR/run"
ROOT_IMG="$IMG_DIR/root.img"

# The lab's network namespace: a bridge with one tap per guest. Nothing in it routes anywhere else.
# Its name is unique per checkout, so a CI clone and a developer's tree can run labs side by side.
LAB_NETNS=${LAB_NETNS:-vmslab-$(printf '%s' "$LAB_DIR" | sha256sum | cut -c1-8)}
LAB_BRIDGE=br0
LAB_BRIDGE_ADDR=10.0.2.2
LAB_PREFIX=24

# Storage hosts: name, tap, address on the bridge, VG on disk 1, VG on disk 2.
LAB_HOSTS=(host-a host-b)
declare -A LAB_TAP=([host-a]=tap-a [host-b]=tap-b)
declare -A LAB_ADDR=([host-a]=10.0.2.11 [host-b]=10.0.2.12)
# Fixed MACs: a host booted again after a crash keeps its address's ARP entries valid everywhere.
declare -A LAB_MAC=([host-a]=02:00:0a:00:02:0b [host-b]=02:00:0a:00:02:0c)
declare -A LAB_VG1=([host-a]=cinder-a [host-b]=cinder-b)
declare -A LAB_VG2=([host-a]=cinder-a2 [host-b]=cinder-b2)
# The drain VG (issue 16): two more disks of every host, one VG of both on host-a only.
declare -A LAB_VG3=([host-a]=cinder-a3)
LAB_VG3_PVS=(/dev/ubdd /dev/ubde)

LAB_MEM=${LAB_MEM:-768M}
LAB_PV_SIZE=${LAB_PV_SIZE:-4G}
LAB_DRAIN_PV_SIZE=${LAB_DRAIN_PV_SIZE:-1G}
# 0: no udev in the guests (LVM makes its own /dev nodes; boots several seconds faster).
LAB_UDEV=${LAB_UDEV:-0}
LAB_BOOT_TIMEOUT=${LAB_BOOT_TIMEOUT:-180}

log() { printf '[lab %s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

now_ms() { date +%s%3N; }
# seconds FROM_MS TO_MS -> "12.3"
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

need_root() {
  [ "$(id -u)" -eq 0 ] || die "the lab needs root (network namespace, tap devices, debootstrap)"
}

# Run a command inside the lab's network namespace.
in_netns() { ip netns exec "$LAB_NETNS" "$@"; }

# The UML kernel's module version (the one directory under /usr/lib/uml/modules).
uml_modules_version() {
  local dirs=(/usr/lib/uml/modules/*)
  if [ "${#dirs[@]}" -ne 1 ] || [ ! -d "${dirs[0]}" ]; then
    die "expected one directory under /usr/lib/uml/modules, found: ${dirs[*]}"
  fi
  basename "${dirs[0]}"
}

# ssh from this machine (inside the namespace) to a guest, verifying its host key.
lab_ssh() {
  local host=$1
  shift
  in_netns ssh -i "$RUN_DIR/keys/client_ed25519" \
    -o UserKnownHostsFile="$RUN_DIR/keys/known_hosts" -o StrictHostKeyChecking=yes \
    -o BatchMode=yes -o ConnectTimeout=5 -o LogLevel=ERROR \
    "root@${LAB_ADDR[$host]}" "$@"
}

# Is PID alive and the UML kernel of this lab's host NAME (guards against a reused pid)?
is_lab_uml() {
  local pid=$1 name=$2
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF "umid=$LAB_NETNS-$name"
}

# Hold the lab's lock for the rest of the calling script (start and stop never overlap).
take_lock() {
  mkdir -p "$CACHE_DIR"
  exec 9>"$CACHE_DIR/lab.lock"
  flock -w 600 9 || die "another lab command holds $CACHE_DIR/lab.lock"
}

# host/uml-xstate-shim.c says why the UML kernel runs with this LD_PRELOAD (a pass-through on
# hosts whose XSAVE area fits UML's copy).
XSTATE_SHIM="$IMG_DIR/uml-xstate-shim.so"

# boot NAME: start the UML kernel of host NAME in the background, in its own process group.
# The disks (pv*.img) are kept if they exist, so a host booted again finds its VGs and LVs.
boot() {
  local name=$1 dir="$RUN_DIR/$1" keys="$RUN_DIR/keys"
  [ -f "$XSTATE_SHIM" ] || die "missing $XSTATE_SHIM (bin/build-image.sh builds it)"
  mkdir -p "$dir/seed" "$dir/uml"
  rm -f "$dir/root.cow"
  install -m 600 "$keys/${name}_host_ed25519" "$dir/seed/ssh_host_ed25519_key"
  install -m 644 "$keys/${name}_host_ed25519.pub" "$dir/seed/ssh_host_ed25519_key.pub"
  install -m 600 "$keys/peer_ed25519" "$dir/seed/id_ed25519"
  install -m 644 "$keys/peer_ed25519.pub" "$dir/seed/id_ed25519.pub"
  cat "$keys/client_ed25519.pub" "$keys/peer_ed25519.pub" >"$dir/seed/authorized_keys"
  install -m 644 "$keys/guest_known_hosts" "$dir/seed/known_hosts"
  install -m 644 "$keys/hosts" "$dir/seed/hosts"
  truncate -s "$LAB_PV_SIZE" "$dir/pv1.img" "$dir/pv2.img"
  truncate -s "$LAB_DRAIN_PV_SIZE" "$dir/pv3.img" "$dir/pv4.img"
  # setsid: the UML kernel and all of its helper processes form one process group, ended together
  # by lab:stop. `ip netns exec` and `env` exec linux.uml, so the pid recorded is the kernel's.
  setsid ip netns exec "$LAB_NETNS" env "LD_PRELOAD=$XSTATE_SHIM" linux.uml \
    "umid=$LAB_NETNS-$name" "uml_dir=$dir/uml" "mem=$LAB_MEM" \
    root=/dev/ubda rw init=/sbin/lab-init \
    "ubd0=$dir/root.cow,$ROOT_IMG" "ubd1=$dir/pv1.img" "ubd2=$dir/pv2.img" \
    "ubd3=$dir/pv3.img" "ubd4=$dir/pv4.img" \
    "vec0:transport=tap,ifname=${LAB_TAP[$name]},gro=1,mac=${LAB_MAC[$name]}" \
    "hostfs=$dir/seed" \
    "labname=$name" "labip=${LAB_ADDR[$name]}/$LAB_PREFIX" "labudev=$LAB_UDEV" "labdebug=${LAB_DEBUG:-0}" \
    con=null con0=null,fd:1 ssl=null \
    </dev/null >"$dir/console.log" 2>&1 9>&- &
  echo $! >"$dir/uml.pid"
}

wait_ready() {
  local name=$1 dir="$RUN_DIR/$1" pid deadline
  pid=$(cat "$dir/uml.pid")
  deadline=$(($(date +%s) + LAB_BOOT_TIMEOUT))
  until grep -q "LAB-READY" "$dir/console.log"; do
    kill -0 "$pid" 2>/dev/null || {
      tail -n 40 "$dir/console.log" >&2
      die "$name: UML exited during boot (console: $dir/console.log)"
    }
    [ "$(date +%s)" -lt "$deadline" ] || {
      tail -n 40 "$dir/console.log" >&2
      die "$name: not ready after ${LAB_BOOT_TIMEOUT}s (console: $dir/console.log)"
    }
    sleep 0.5
  done
  until lab_ssh "$name" true 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || die "$name: ssh not answering after ${LAB_BOOT_TIMEOUT}s"
    sleep 0.5
  done
  # lab:stop ends the host by its process group: the recorded pid must lead one.
  [ "$(ps -o pgid= -p "$pid" | tr -d ' ')" = "$pid" ] || die "$name: UML pid $pid does not lead its process group"
  log "$name ready: $(grep -o 'LAB-READY.*' "$dir/console.log")"
}

# Wait up to SECONDS for PID to be gone.
wait_gone() {
  local pid=$1 seconds=$2 i
  for ((i = 0; i < seconds * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}
