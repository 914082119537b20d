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
declare -A LAB_VG1=([host-a]=cinder-a [host-b]=cinder-b)
declare -A LAB_VG2=([host-a]=cinder-a2 [host-b]=cinder-b2)

LAB_MEM=${LAB_MEM:-768M}
LAB_PV_SIZE=${LAB_PV_SIZE:-4G}
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
