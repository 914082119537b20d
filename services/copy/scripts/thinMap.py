# Which bytes of an LVM thin LV its pool has mapped: every other byte reads as zeros without
# touching a disk, so a copy reads only these (and the copy's checksum, over the extents records
# of lib/extents.sh, is the same as if it had read every byte: zero chunks are left out of it).
#   python3 -I -S -c SCRIPT thin-map DEV OFF LEN
#       DEV  the thin LV (/dev/VG/LV)
#       OFF LEN  only the ranges within [OFF, OFF+LEN)
# Prints `OFF LEN` byte ranges, one a line, in order and merged, then `end MAPPED` (the LV's
# mapped bytes, as the pool counts them). Fails (exit 1, the reason on stderr) for an LV that is
# not thin or a pool whose metadata snapshot cannot be taken; the engine then reads every byte.
# How: dmsetup's tables name the LV's pool and the pool's metadata device; the metadata is read
# from a metadata snapshot (`dmsetup message POOL 0 reserve_metadata_snap`, which commits the
# pool's metadata first), never live, by thin_dump; a pool has at most one such snapshot, so
# copies on one host take turns (flock).
import fcntl
import os
import re
import subprocess
import sys


class Failure(Exception):
    pass


def run(argv):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise Failure("%s: %s" % (" ".join(argv[:3]), r.stderr.decode(errors="replace").strip()))
    return r.stdout.decode()


def tables():
    """Every device-mapper device's table lines, by name (one `dmsetup table` for all)."""
    out = {}
    for line in run(["dmsetup", "table"]).splitlines():
        name, _, table = line.partition(": ")
        out.setdefault(name, []).append(table.split())
    return out


def by_number(names):
    """Each dm device's name by its major:minor (from its node; no command needed)."""
    out = {}
    for name in names:
        try:
            rdev = os.stat("/dev/mapper/" + name).st_rdev
        except OSError:
            continue
        out["%d:%d" % (os.major(rdev), os.minor(rdev))] = name
    return out


def dm_name(dev):
    """The dm name of DEV (/dev/VG/LV, which links to /dev/mapper/NAME or to /dev/dm-N)."""
    real = os.path.realpath(dev)
    if real.startswith("/dev/mapper/"):
        return real[len("/dev/mapper/"):]
    try:
        with open("/sys/block/%s/dm/name" % os.path.basename(real)) as f:
            return f.read().strip()
    except OSError:
        raise Failure("%s is not a device-mapper device" % dev)


def attrs(text):
    return {k: int(v) for k, v in re.findall(r'(\w+)="(\d+)"', text)}


def mapped_blocks(xml, dev_id):
    """(block bytes, [(first block, blocks)] in order, mapped blocks as the dump counts them)."""
    sb = re.search(r"<superblock\b([^>]*)>", xml)
    devs = [attrs(d) for d in re.findall(r"<device\b([^>]*)>", xml)]
    dev = next((d for d in devs if d.get("dev_id") == dev_id), None)
    if not sb or "data_block_size" not in attrs(sb.group(1)) or not dev or "mapped_blocks" not in dev:
        raise Failure("thin_dump printed no superblock or no device %d" % dev_id)
    runs = []
    for tag, text in re.findall(r"<(range_mapping|single_mapping)\b([^>]*)/>", xml):
        a = attrs(text)
        runs.append((a["origin_begin"], a["length"]) if tag == "range_mapping" else (a["origin_block"], 1))
    return attrs(sb.group(1))["data_block_size"] * 512, sorted(runs), dev["mapped_blocks"]


def main(argv):
    dev, off, length = argv[1], int(argv[2]), int(argv[3])
    # The thin LV's table is `0 LEN thin POOL DEV_ID`, its pool's `0 LEN thin-pool META DATA ...`
    # (devices by major:minor): dmsetup's view, without asking lvm (half a second on a slow host).
    table, name = tables(), dm_name(dev)
    lines = table.get(name, [])
    if len(lines) != 1 or len(lines[0]) < 5 or lines[0][2] != "thin":
        raise Failure("%s is not a thin LV" % dev)
    numbers = by_number(table)
    pool = numbers.get(lines[0][3])
    pool_lines = table.get(pool, [])
    if len(pool_lines) != 1 or len(pool_lines[0]) < 5 or pool_lines[0][2] != "thin-pool":
        raise Failure("the pool of %s is not a thin pool" % dev)
    meta = numbers.get(pool_lines[0][3])
    if meta is None:
        raise Failure("no device node for the metadata of %s" % pool)
    dev_id = int(lines[0][4])
    with open("/run/lock/vms-thin-map-%s.lock" % pool, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        run(["dmsetup", "message", pool, "0", "reserve_metadata_snap"])
        try:
            xml = run(["thin_dump", "--metadata-snap", "--dev-id", str(dev_id), "/dev/mapper/" + meta])
        finally:
            run(["dmsetup", "message", pool, "0", "release_metadata_snap"])
    block, runs, counted = mapped_blocks(xml, dev_id)
    if sum(n for _, n in runs) != counted:
        raise Failure("thin_dump's mappings add up to %d blocks, its count says %d" % (sum(n for _, n in runs), counted))
    end = off + length
    out = []
    for first, n in runs:
        a, b = max(first * block, off), min((first + n) * block, end)
        if a >= b:
            continue
        if out and out[-1][0] + out[-1][1] == a:
            out[-1][1] += b - a
        else:
            out.append([a, b - a])
    sys.stdout.write("".join("%d %d\n" % (a, n) for a, n in out) + "end %d\n" % (counted * block))


try:
    main(sys.argv[1:])
except (Failure, OSError, ValueError, IndexError) as e:
    sys.stderr.write("vms-copy: thin map: %s\n" % e)
    sys.exit(1)
