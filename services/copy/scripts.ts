/**
 * The fixed bash scripts the hosts run for a copy. Nothing is ever spliced into them: paths,
 * offsets and names travel as positional arguments ("$1" …), and the SSH runner quotes the argv.
 * Each side hashes what passes through it on its own host (openssl or sha256sum) and prints the digest on
 * stderr as `vms-sha256 <side> <hex>`, so this process compares digests computed on the hosts.
 */
import type { Compression } from "./types";

/**
 * `sha256`: the host's fastest sha256 of stdin. OpenSSL uses the CPU's SHA extensions (1 GiB in
 * 0.7 s CPU here) where coreutils' sha256sum does not (3.5 s); both print the hex digest first.
 */
const HASH_FN = `sha256() {
  if command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 -r; else sha256sum; fi;
}`;

/**
 * Reads `len` bytes at `off` of `src`, hashes them and writes them (compressed) to stdout; the
 * digest goes through tee to fd 4, the data to fd 3 (stdout). Expects src bs off len direct comp.
 * Shared by the relay reader and the direct transport's forced command. Every line ends in a
 * terminator, so the text also works joined into one line (authorized_keys has no newlines).
 */
const READ_FN = `read_segment() {
  local iflag=skip_bytes,count_bytes sum;
  [ "$direct" = 1 ] && iflag=$iflag,direct;
  exec 3>&1;
  case $comp in
    none) sum=$( { dd if="$src" bs="$bs" skip="$off" count="$len" iflag=$iflag status=none | tee /dev/fd/4 >&3; } 4>&1 | sha256 ) ;;
    lz4) sum=$( { dd if="$src" bs="$bs" skip="$off" count="$len" iflag=$iflag status=none | tee /dev/fd/4 | lz4 -1 -q -c >&3; } 4>&1 | sha256 ) ;;
    zstd) sum=$( { dd if="$src" bs="$bs" skip="$off" count="$len" iflag=$iflag status=none | tee /dev/fd/4 | zstd -1 -T0 -q -c >&3; } 4>&1 | sha256 ) ;;
    gzip) sum=$( { dd if="$src" bs="$bs" skip="$off" count="$len" iflag=$iflag status=none | tee /dev/fd/4 | gzip -1 -c >&3; } 4>&1 | sha256 ) ;;
    *) echo "vms-copy: unknown compression $comp" >&2; return 2 ;;
  esac || return;
  printf 'vms-sha256 src %s\\n' "\${sum%% *}" >&2;
}`;

/** Joins a script written with explicit terminators into one line. */
const oneLine = (script: string): string => script.replace(/\n\s*/g, " ");

/** Relay reader: `bash -c READ_SCRIPT read SRC BS OFF LEN DIRECT COMP`. */
export const READ_SCRIPT = `set -o pipefail
src=$1 bs=$2 off=$3 len=$4 direct=$5 comp=$6
${HASH_FN}
${READ_FN}
read_segment`;

/**
 * The direct transport's forced command on the source host: `bash -c FORCED_SCRIPT vms-copy-read
 * SRC BS SIZE DIRECT COMP`, all fixed when the key is installed; the key holder chooses only which
 * segment of this one volume it reads. SSH_ORIGINAL_COMMAND must be `read OFF LEN` with decimal
 * integers (at most 18 digits, so bash's 64-bit arithmetic cannot overflow), OFF a multiple of BS
 * and OFF+LEN within SIZE; anything else is refused before any command runs. `probe` answers
 * without reading, so a copy can test the whole path before it writes a byte. One line.
 */
export const FORCED_SCRIPT = oneLine(`set -o pipefail;
src=$1 bs=$2 size=$3 direct=$4 comp=$5;
req=\${SSH_ORIGINAL_COMMAND-};
if [ "$req" = probe ]; then echo vms-copy-ok; exit 0; fi;
re='^read (0|[1-9][0-9]{0,17}) ([1-9][0-9]{0,17})$';
if ! [[ $req =~ $re ]]; then echo "vms-copy: request refused" >&2; exit 126; fi;
off=\${BASH_REMATCH[1]} len=\${BASH_REMATCH[2]};
if (( off % bs != 0 || off + len > size )); then echo "vms-copy: segment refused" >&2; exit 126; fi;
${HASH_FN};
${READ_FN};
read_segment`);

/**
 * `fetch REQUEST`: the destination host asks the source host's forced command for REQUEST with
 * the copy's key. Only the copy's key dir, the pinned host key type and the source's endpoint
 * vary (key kh hka port user addr); no user ssh config applies (-F none).
 */
const FETCH_FN = `fetch() {
  ssh -n -F none -i "$key" -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes \\
    -o UserKnownHostsFile="$kh" -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes \\
    -o HostKeyAlgorithms="$hka" -o ConnectTimeout=15 -o ServerAliveInterval=15 -o LogLevel=ERROR \\
    -o Ciphers=aes128-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr \\
    -p "$port" -l "$user" -- "$addr" "$1"
}`;

/** `bash -c PROBE_DIRECT_SCRIPT probe-direct KEY KH HKA PORT USER ADDR`: can the key reach the source? */
export const PROBE_DIRECT_SCRIPT = `key=$1 kh=$2 hka=$3 port=$4 user=$5 addr=$6
${FETCH_FN}
fetch probe`;

/**
 * Writer on the destination host: `bash -c WRITE_SCRIPT write DST BS OFF LEN DIRECT SPARSE COMP
 * MODE [KEY KH HKA PORT USER ADDR | SRC SRCDIRECT]`. MODE `relay` reads stdin; `direct` fetches
 * the segment from the source host with the copy's key; `local` reads SRC on this same host. dd's own stderr (status=progress, every second, and its
 * final count) goes to stdout for progress; it also makes a writer whose consumer is gone die of
 * SIGPIPE within a second. conv=fdatasync: "dd exited 0" means the segment is on stable storage,
 * O_DIRECT or not (O_DIRECT alone does not flush a volatile device cache).
 */
export const WRITE_SCRIPT = `set -o pipefail
dst=$1 bs=$2 off=$3 len=$4 direct=$5 sparse=$6 comp=$7 mode=$8
key=$9 kh=\${10} hka=\${11} port=\${12} user=\${13} addr=\${14}
oflag=seek_bytes conv=notrunc,fdatasync
[ "$direct" = 1 ] && oflag=$oflag,direct
[ "$sparse" = 1 ] && conv=$conv,sparse
exec 3>&1
${HASH_FN}
write_segment() { dd of="$dst" bs="$bs" seek="$off" count="$len" iflag=fullblock,count_bytes oflag=$oflag conv=$conv status=progress 2>&3 >/dev/null; }
sink() {
  {
    case $comp in
      none) tee /dev/fd/4 ;;
      lz4) lz4 -d -q -c | tee /dev/fd/4 ;;
      zstd) zstd -d -q -c | tee /dev/fd/4 ;;
      gzip) gzip -d -c | tee /dev/fd/4 ;;
      *) echo "vms-copy: unknown compression $comp" >&2; exit 2 ;;
    esac | write_segment
  } 4>&1 | sha256
}
${READ_FN}
${FETCH_FN}
case $mode in
  relay) sum=$(sink) ;;
  # The source is on this host too (another LV, another file): read it here, no network at all.
  local) sum=$(src=$9 direct=\${10}; read_segment | sink) ;;
  direct) sum=$(fetch "read $off $len" | sink) ;;
  *) echo "vms-copy: unknown mode $mode" >&2; exit 2 ;;
esac || exit
printf 'vms-sha256 dst %s\\n' "\${sum%% *}" >&2`;

/** `bash -c READBACK_SCRIPT readback DST BS OFF LEN DIRECT`: the digest of what is on disk now. */
export const READBACK_SCRIPT = `set -o pipefail
${HASH_FN}
iflag=skip_bytes,count_bytes
[ "$5" = 1 ] && iflag=$iflag,direct
sum=$(dd if="$1" bs="$2" skip="$3" count="$4" iflag=$iflag status=none | sha256) || exit
printf 'vms-sha256 readback %s\\n' "\${sum%% *}"`;

/**
 * `bash -c SAMPLE_SCRIPT sample SRC COMP DIRECT OFF...`: how many bytes COMP makes of 1 MiB read
 * at each offset OFF (MiB) of SRC, summed; for "auto" compression to skip data that does not
 * compress (random or already compressed), where it would only cost CPU on both hosts.
 */
export const SAMPLE_SCRIPT = `set -o pipefail
src=$1 comp=$2 direct=$3; shift 3
iflag=; [ "$direct" = 1 ] && iflag=iflag=direct
total=0
for off in "$@"; do
  n=$(dd if="$src" bs=1M skip="$off" count=1 $iflag status=none | "$comp" -1 -c | wc -c) || exit 1
  total=$((total + n))
done
echo "$total"`;

/** `bash -c PROBE_SCRIPT probe TOOL…`: prints the tools this host has, one a line. */
export const PROBE_SCRIPT = `for t in "$@"; do command -v "$t" >/dev/null 2>&1 && echo "$t"; done; true`;

/**
 * `bash -c ADD_KEY_SCRIPT add-key FILE LINE`: appends LINE to an authorized_keys FILE (default
 * ~/.ssh/authorized_keys when FILE is empty), adding the newline a hand-edited file may lack.
 * The ~/.ssh directory is locked (flock, where present) so concurrent copies do not interleave.
 */
export const ADD_KEY_SCRIPT = `set -e
f=\${1:-$HOME/.ssh/authorized_keys}
umask 077
mkdir -p "$(dirname "$f")"
exec 9<"$(dirname "$f")"
command -v flock >/dev/null 2>&1 && flock -w 30 9
if [ -s "$f" ] && [ -n "$(tail -c1 "$f")" ]; then printf '\\n' >>"$f"; fi
printf '%s\\n' "$2" >>"$f"`;

/**
 * `bash -c REMOVE_KEY_SCRIPT remove-key FILE TAG`: drops the lines ending in ` TAG` (the copy's
 * own comment) by writing a copy with the same mode and renaming it over the file, so a crash
 * leaves either the old or the new file, never a truncated one.
 */
export const REMOVE_KEY_SCRIPT = `set -e
f=\${1:-$HOME/.ssh/authorized_keys} tag=$2
case $tag in vms-copy-[0-9a-f]*) ;; *) echo "vms-copy: bad tag" >&2; exit 2 ;; esac
[ -e "$f" ] || exit 0
exec 9<"$(dirname "$f")"
command -v flock >/dev/null 2>&1 && flock -w 30 9
grep -q -e " $tag$" "$f" || exit 0
tmp=$(mktemp "$f.vms.XXXXXX")
grep -v -e " $tag$" "$f" >"$tmp" || [ $? -eq 1 ]
chmod --reference="$f" "$tmp"
mv -f "$tmp" "$f"`;

/**
 * `bash -c KEY_DIR_SCRIPT key-dir KNOWN_HOSTS_LINE` with the private key on stdin: makes a
 * private temp dir on the destination host holding `key` (0600) and `known_hosts`; prints it.
 */
export const KEY_DIR_SCRIPT = `set -e
umask 077
d=$(mktemp -d "\${TMPDIR:-/tmp}/vms-copy.XXXXXXXX")
cat >"$d/key"
chmod 600 "$d/key"
printf '%s\\n' "$1" >"$d/known_hosts"
printf '%s\\n' "$d"`;

/** `bash -c RM_KEY_DIR_SCRIPT rm-key-dir DIR`: removes a dir KEY_DIR_SCRIPT made, and nothing else. */
export const RM_KEY_DIR_SCRIPT = `case $1 in */vms-copy.*) rm -rf -- "$1" ;; *) echo "vms-copy: not a key dir" >&2; exit 2 ;; esac`;

export const bash = (script: string, name: string, ...args: (string | number)[]): string[] => [
  "bash",
  "-c",
  script,
  name,
  ...args.map(String),
];

const flag = (b: boolean): string => (b ? "1" : "0");

export interface SegmentIo {
  path: string;
  blockBytes: number;
  offset: number;
  length: number;
  directIo: boolean;
}

export function readArgv(s: SegmentIo, comp: Compression): string[] {
  return bash(READ_SCRIPT, "read", s.path, s.blockBytes, s.offset, s.length, flag(s.directIo), comp);
}

/** The endpoint a direct writer reads from; the key and known_hosts live in the copy's key dir. */
export interface DirectSource {
  keyDir: string;
  hostKeyAlgorithms: string;
  port: number;
  username: string;
  address: string;
}

export function writeArgv(
  s: SegmentIo & { sparse: boolean },
  comp: Compression,
  direct: DirectSource | null,
  /** The source, when it is on the destination's host: the writer reads it itself. */
  local: { path: string; directIo: boolean } | null = null,
): string[] {
  const base = [s.path, s.blockBytes, s.offset, s.length, flag(s.directIo), flag(s.sparse), comp];
  if (local) {
    return bash(WRITE_SCRIPT, "write", ...base, "local", local.path, flag(local.directIo));
  }
  if (!direct) {
    return bash(WRITE_SCRIPT, "write", ...base, "relay");
  }
  const { keyDir, hostKeyAlgorithms, port, username, address } = direct;
  return bash(
    WRITE_SCRIPT,
    "write",
    ...base,
    "direct",
    `${keyDir}/key`,
    `${keyDir}/known_hosts`,
    hostKeyAlgorithms,
    port,
    username,
    address,
  );
}

export function probeDirectArgv(d: DirectSource): string[] {
  return bash(
    PROBE_DIRECT_SCRIPT,
    "probe-direct",
    `${d.keyDir}/key`,
    `${d.keyDir}/known_hosts`,
    d.hostKeyAlgorithms,
    d.port,
    d.username,
    d.address,
  );
}

export function readbackArgv(s: SegmentIo): string[] {
  return bash(READBACK_SCRIPT, "readback", s.path, s.blockBytes, s.offset, s.length, flag(s.directIo));
}

export function forcedCommandArgv(
  path: string,
  blockBytes: number,
  size: number,
  directIo: boolean,
  comp: Compression,
): string[] {
  return bash(FORCED_SCRIPT, "vms-copy-read", path, blockBytes, size, flag(directIo), comp);
}

/** The `vms-sha256 <side> <hex>` digests a script printed, by side. */
export function parseDigests(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^vms-sha256 (\w+) ([0-9a-f]{64})$/gm)) {
    out.set(m[1]!, m[2]!);
  }
  return out;
}
