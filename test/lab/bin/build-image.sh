#!/usr/bin/env bash
# Build the lab's Debian root image once and cache it in test/lab/.cache/img/root.img.
# The cache key is the content of this script and of guest/; a second run prints "image cached".
# A built image is also kept in a store outside the checkout, one folder per key, so that a fresh
# clone on the same machine (CI's) copies it in a second instead of spending minutes on debootstrap.
#   LAB_REBUILD=1      build even if cached
#   LAB_IMAGE_STORE    the store (default /var/cache/vms-lab; empty: none)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root

host_packages() {
  local need=()
  command -v linux.uml >/dev/null || need+=(user-mode-linux)
  command -v debootstrap >/dev/null || need+=(debootstrap)
  command -v ssh >/dev/null && command -v ssh-keygen >/dev/null || need+=(openssh-client)
  command -v mke2fs >/dev/null || need+=(e2fsprogs)
  command -v ip >/dev/null || need+=(iproute2)
  command -v flock >/dev/null || need+=(util-linux)
  command -v cc >/dev/null || need+=(gcc)
  [ -f /usr/include/dlfcn.h ] || need+=(libc6-dev)
  [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)
  if [ "${#need[@]}" -gt 0 ]; then
    log "installing host packages: ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}

# The Debian mirror apt already uses on this machine (first non-security URI).
debian_mirror() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || die "no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
  echo "$uri"
}

cache_key() {
  {
    cat "$LAB_DIR/bin/build-image.sh" "$LAB_DIR"/guest/* "$LAB_DIR"/host/*
    uml_modules_version
  } | sha256sum | cut -d' ' -f1
}

host_packages
take_lock
key=$(cache_key)
if [ "${LAB_REBUILD:-0}" != 1 ] && [ -f "$ROOT_IMG" ] && [ "$(cat "$IMG_DIR/stamp" 2>/dev/null)" = "$key" ]; then
  log "image cached ($ROOT_IMG)"
  exit 0
fi
store=${LAB_IMAGE_STORE-/var/cache/vms-lab}
# A key's folder is complete or absent (it is renamed into place), and never rewritten, so a lab
# of another checkout that boots from its own copy is never disturbed.
if [ "${LAB_REBUILD:-0}" != 1 ] && [ -n "$store" ] && [ -f "$store/$key/root.img" ]; then
  mkdir -p "$IMG_DIR"
  cp --sparse=always "$store/$key/root.img" "$ROOT_IMG.new"
  cp "$store/$key/uml-xstate-shim.so" "$IMG_DIR/uml-xstate-shim.so"
  mv "$ROOT_IMG.new" "$ROOT_IMG"
  echo "$key" >"$IMG_DIR/stamp"
  log "image cached (copied from $store/$key)"
  exit 0
fi

started=$(date +%s)
suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
mirror=$(debian_mirror)
kver=$(uml_modules_version)
rootfs="$BUILD_DIR/rootfs"
rm -rf "$BUILD_DIR"
mkdir -p "$BUILD_DIR" "$IMG_DIR"
# A failed build leaves only its log (a half-made rootfs would slow jest's file crawl under test/).
cleanup() { rm -rf "$rootfs" "$ROOT_IMG.new"; }
trap cleanup EXIT

log "debootstrap $suite (minbase + lvm2, openssh-server and -client, lz4, zstd, openssl, python3, ...)"
debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
  --include=lvm2,thin-provisioning-tools,openssh-server,openssh-client,kmod,iproute2,procps,udev,coreutils,lz4,zstd,gzip,openssl,python3 \
  "$suite" "$rootfs" "$mirror" >"$BUILD_DIR/debootstrap.log" 2>&1 ||
  {
    tail -n 30 "$BUILD_DIR/debootstrap.log" >&2
    die "debootstrap failed (log: $BUILD_DIR/debootstrap.log)"
  }
chroot "$rootfs" apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
# Host keys are made per run by lab:start; the image must not carry any.
rm -f "$rootfs"/etc/ssh/ssh_host_*

log "UML modules $kver: drivers/md and what they need"
src="/usr/lib/uml/modules/$kver"
dst="$rootfs/lib/modules/$kver"
mkdir -p "$dst"
# modules.dep lists each module with all of its (transitive) dependencies.
mapfile -t mods < <(grep '^kernel/drivers/md/' "$src/modules.dep" | tr -d ':' | tr ' ' '\n' | sed '/^$/d' | sort -u)
for m in "${mods[@]}"; do
  install -D -m 644 "$src/$m" "$dst/$m"
done
cp "$src"/modules.builtin* "$src/modules.order" "$dst/"
chroot "$rootfs" depmod -a "$kver"

log "guest configuration"
install -m 755 "$LAB_DIR/guest/lab-init" "$rootfs/sbin/lab-init"
install -m 644 "$LAB_DIR/guest/sshd-lab.conf" "$rootfs/etc/ssh/sshd_config.d/lab.conf"
sed -i 's/^\([[:space:]]*\)#\?[[:space:]]*event_activation = .*/\1event_activation = 0/' "$rootfs/etc/lvm/lvm.conf"
grep -Eq '^[[:space:]]*event_activation = 0$' "$rootfs/etc/lvm/lvm.conf" ||
  die "could not set event_activation = 0 in lvm.conf"
echo "lab" >"$rootfs/etc/hostname"
printf '127.0.0.1 localhost\n' >"$rootfs/etc/hosts"

log "UML xstate shim (host/uml-xstate-shim.c)"
cc -O2 -Wall -shared -fPIC -o "$IMG_DIR/uml-xstate-shim.so" "$LAB_DIR/host/uml-xstate-shim.c" -ldl

log "ext4 image"
rm -f "$ROOT_IMG.new"
mke2fs -q -F -t ext4 -L labroot -d "$rootfs" "$ROOT_IMG.new" 2G >/dev/null
mv "$ROOT_IMG.new" "$ROOT_IMG"
echo "$key" >"$IMG_DIR/stamp"
rm -rf "$BUILD_DIR"
if [ -n "$store" ] && mkdir -p "$store" 2>/dev/null; then
  tmp=$(mktemp -d "$store/.new-XXXXXX")
  cp --sparse=always "$ROOT_IMG" "$IMG_DIR/uml-xstate-shim.so" "$tmp/"
  # Another checkout may have stored the same key meanwhile: then this copy is not needed.
  mv -T "$tmp" "$store/$key" 2>/dev/null || rm -rf "$tmp"
fi
log "image built in $(($(date +%s) - started)) s: $ROOT_IMG ($(du -h "$ROOT_IMG" | cut -f1) allocated)"
