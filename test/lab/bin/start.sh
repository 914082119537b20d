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

log "booting ${LAB_HOSTS[*]} (mem $LAB_MEM, disks 2 x $LAB_PV_SIZE + 2 x $LAB_DRAIN_PV_SIZE, udev $LAB_UDEV)"
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
  if [ -n "${LAB_VG3[$name]:-}" ]; then
    lab_ssh "$name" "pvcreate -qq ${LAB_VG3_PVS[*]} && vgcreate -qq ${LAB_VG3[$name]} ${LAB_VG3_PVS[*]}"
    log "$name: VG ${LAB_VG3[$name]} (${LAB_VG3_PVS[*]})"
  fi
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
    # A few tries: on a loaded machine a guest's sshd can miss the banner deadline once.
    got=
    for _ in 1 2 3; do
      got=$(lab_ssh "$from" ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=30 "root@$to" hostname) && break
      sleep 2
    done
    [ "$got" = "$to" ] || die "$from could not ssh to $to over the bridge (got: $got)"
  done
done
log "guests reach each other over $LAB_BRIDGE by ssh"

hosts_json=()
for name in "${LAB_HOSTS[@]}"; do
  hosts_json+=("$name" "${LAB_ADDR[$name]}" "${LAB_VG1[$name]}" "${LAB_VG2[$name]}" "${LAB_VG3[$name]:--}" "$(cat "$RUN_DIR/$name/uml.pid")")
done
node - "$RUN_DIR" "$LAB_NETNS" "$LAB_BRIDGE_ADDR/$LAB_PREFIX" "${LAB_VG3_PVS[*]}" "${hosts_json[@]}" >"$RUN_DIR/lab.json.new" <<'JS'
const [runDir, netns, bridgeAddress, vg3Pvs, ...flat] = process.argv.slice(2);
const keys = `${runDir}/keys`;
const hosts = [];
for (let i = 0; i < flat.length; i += 6) {
  const [name, address, vg1, vg2, vg3, pid] = flat.slice(i, i + 6);
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
    ...(vg3 === "-" ? {} : { drainVg: { name: vg3, pvs: vg3Pvs.split(" ") } }),
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
