#!/usr/bin/env bash
# Start the lab: two UML storage hosts (host-a, host-b) with real LVM2 and OpenSSH, booted in
# parallel, on a tap bridge inside a network namespace made here. Writes test/lab/.cache/run/lab.json.
# A lab that is already running is stopped first.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root
started=$(now_ms)

"$LAB_DIR/bin/build-image.sh"
"$LAB_DIR/bin/stop.sh" --quiet
take_lock
image_ready=$(now_ms)
# On failure: release the lock and stop what was started (console logs are kept).
on_exit() {
  local rc=$?
  [ "$rc" -ne 0 ] || return 0
  flock -u 9
  if [ "${LAB_KEEP_ON_FAIL:-0}" = 1 ]; then
    log "start failed; LAB_KEEP_ON_FAIL=1: left running for inspection (npm run lab:stop ends it)"
    exit "$rc"
  fi
  log "start failed; stopping what was started (console logs stay in $RUN_DIR/*/console.log)"
  "$LAB_DIR/bin/stop.sh" --quiet || true
  exit "$rc"
}
trap on_exit EXIT

[[ "$RUN_DIR" != *[[:space:],]* ]] || die "the lab's path must not contain spaces or commas (UML options): $RUN_DIR"
rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR/keys"
chmod 700 "$RUN_DIR" "$RUN_DIR/keys"

# Keys made for this run: the test's client key, a key the guests use to reach each other, and
# one host key per guest. known_hosts files are written from the host keys made here.
keys="$RUN_DIR/keys"
ssh-keygen -q -t ed25519 -N '' -C lab-client -f "$keys/client_ed25519"
ssh-keygen -q -t ed25519 -N '' -C lab-peer -f "$keys/peer_ed25519"
: >"$keys/known_hosts"
: >"$keys/guest_known_hosts"
: >"$keys/hosts"
for name in "${LAB_HOSTS[@]}"; do
  ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$keys/${name}_host_ed25519"
  hostkey=$(cut -d' ' -f1,2 "$keys/${name}_host_ed25519.pub")
  echo "${LAB_ADDR[$name]} $hostkey" >"$keys/$name.known_hosts"
  echo "${LAB_ADDR[$name]} $hostkey" >>"$keys/known_hosts"
  echo "$name,${LAB_ADDR[$name]} $hostkey" >>"$keys/guest_known_hosts"
  echo "${LAB_ADDR[$name]} $name" >>"$keys/hosts"
done

log "network namespace $LAB_NETNS: bridge $LAB_BRIDGE $LAB_BRIDGE_ADDR/$LAB_PREFIX"
ip netns add "$LAB_NETNS"
in_netns ip link set lo up
in_netns ip link add "$LAB_BRIDGE" type bridge
in_netns ip addr add "$LAB_BRIDGE_ADDR/$LAB_PREFIX" dev "$LAB_BRIDGE"
in_netns ip link set "$LAB_BRIDGE" up
for name in "${LAB_HOSTS[@]}"; do
  in_netns ip tuntap add dev "${LAB_TAP[$name]}" mode tap
  in_netns ip link set "${LAB_TAP[$name]}" master "$LAB_BRIDGE"
  in_netns ip link set "${LAB_TAP[$name]}" up
done

# host/uml-xstate-shim.c says why the UML kernel runs with this LD_PRELOAD (a pass-through on
# hosts whose XSAVE area fits UML's copy).
XSTATE_SHIM="$IMG_DIR/uml-xstate-shim.so"
[ -f "$XSTATE_SHIM" ] || die "missing $XSTATE_SHIM (bin/build-image.sh builds it)"

# boot NAME: start the UML kernel of host NAME in the background, in its own process group.
boot() {
  local name=$1 dir="$RUN_DIR/$1"
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
  # setsid: the UML kernel and all of its helper processes form one process group, ended together
  # by lab:stop. `ip netns exec` and `env` exec linux.uml, so the pid recorded is the kernel's.
  setsid ip netns exec "$LAB_NETNS" env "LD_PRELOAD=$XSTATE_SHIM" linux.uml \
    "umid=$LAB_NETNS-$name" "uml_dir=$dir/uml" "mem=$LAB_MEM" \
    root=/dev/ubda rw init=/sbin/lab-init \
    "ubd0=$dir/root.cow,$ROOT_IMG" "ubd1=$dir/pv1.img" "ubd2=$dir/pv2.img" \
    "vec0:transport=tap,ifname=${LAB_TAP[$name]},gro=1" \
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

log "booting ${LAB_HOSTS[*]} (mem $LAB_MEM, disks 2 x $LAB_PV_SIZE, udev $LAB_UDEV)"
for name in "${LAB_HOSTS[@]}"; do
  boot "$name"
done
for name in "${LAB_HOSTS[@]}"; do
  wait_ready "$name"
done
booted=$(now_ms)

make_vgs() {
  local name=$1
  lab_ssh "$name" "pvcreate -qq /dev/ubdb /dev/ubdc && vgcreate -qq ${LAB_VG1[$name]} /dev/ubdb && vgcreate -qq ${LAB_VG2[$name]} /dev/ubdc"
  log "$name: VGs ${LAB_VG1[$name]} (/dev/ubdb) and ${LAB_VG2[$name]} (/dev/ubdc)"
}
vg_jobs=()
for name in "${LAB_HOSTS[@]}"; do
  make_vgs "$name" &
  vg_jobs+=($!)
done
for job in "${vg_jobs[@]}"; do
  wait "$job" || die "creating the VGs failed"
done

# Guest to guest over the bridge, host keys verified on both sides.
for from in "${LAB_HOSTS[@]}"; do
  for to in "${LAB_HOSTS[@]}"; do
    [ "$from" != "$to" ] || continue
    got=$(lab_ssh "$from" ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=10 "root@$to" hostname)
    [ "$got" = "$to" ] || die "$from could not ssh to $to over the bridge (got: $got)"
  done
done
log "guests reach each other over $LAB_BRIDGE by ssh"

hosts_json=()
for name in "${LAB_HOSTS[@]}"; do
  hosts_json+=("$name" "${LAB_ADDR[$name]}" "${LAB_VG1[$name]}" "${LAB_VG2[$name]}" "$(cat "$RUN_DIR/$name/uml.pid")")
done
node - "$RUN_DIR" "$LAB_NETNS" "$LAB_BRIDGE_ADDR/$LAB_PREFIX" "${hosts_json[@]}" >"$RUN_DIR/lab.json.new" <<'JS'
const [runDir, netns, bridgeAddress, ...flat] = process.argv.slice(2);
const keys = `${runDir}/keys`;
const hosts = [];
for (let i = 0; i < flat.length; i += 5) {
  const [name, address, vg1, vg2, pid] = flat.slice(i, i + 5);
  hosts.push({
    name,
    sshHost: address,
    sshPort: 22,
    sshUser: "root",
    privateKey: `${keys}/client_ed25519`,
    knownHosts: `${keys}/${name}.known_hosts`,
    bridgeAddress: address,
    vgs: [
      { name: vg1, pv: "/dev/ubdb" },
      { name: vg2, pv: "/dev/ubdc" },
    ],
    pid: Number(pid),
    console: `${runDir}/${name}/console.log`,
  });
}
const lab = {
  netns,
  netnsPath: `/run/netns/${netns}`,
  bridge: { name: "br0", address: bridgeAddress },
  knownHosts: `${keys}/known_hosts`,
  startedAt: new Date().toISOString(),
  hosts,
};
process.stdout.write(JSON.stringify(lab, null, 2) + "\n");
JS
mv "$RUN_DIR/lab.json.new" "$RUN_DIR/lab.json"

done_at=$(now_ms)
log "started in $(seconds "$started" "$done_at") s (image $(seconds "$started" "$image_ready") s," \
  "boot $(seconds "$image_ready" "$booted") s, VGs and checks $(seconds "$booted" "$done_at") s): $RUN_DIR/lab.json"
