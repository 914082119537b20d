# shellcheck shell=bash
# Defines read_segment: reads $len bytes at byte $off of $src (dd block size $bs, O_DIRECT when
# $direct is 1; or, when $fmt is `extents`, the records of lib/extents.sh, which the script then
# sources too), hashes them with sha256 (lib/sha256.sh) and writes them, compressed with $comp
# (none, or lz4|zstd|gzip by lib/compress.sh, which the script sources too), to stdout. Prints `vms-sha256 src <hex>` on stderr. The data goes to fd 3
# (stdout), the copy tee makes goes through fd 4 to the hash.
# Sourced, not run: the script that sources it sets src bs off len direct comp (hence SC2154
# below) and scripts.ts puts this text in place of the `source` line. Every line ends in a
# terminator, because forcedRead.sh is sent joined into one line.
# read_plain: the segment's bytes to stdout, neither hashed nor compressed; read_source: those
# bytes or, with fmt=extents, their records.
read_plain() {
  local iflag=skip_bytes,count_bytes;
  # shellcheck disable=SC2154 # direct is set by the sourcing script
  [ "$direct" = 1 ] && iflag=$iflag,direct;
  # shellcheck disable=SC2154 # src, bs, off and len are set by the sourcing script
  dd if="$src" bs="$bs" skip="$off" count="$len" iflag=$iflag status=none;
};
read_source() {
  if [ "${fmt-}" = extents ]; then read_extents; else read_plain; fi;
};
read_segment() {
  local sum;
  exec 3>&1;
  # shellcheck disable=SC2154 # comp is set by the sourcing script
  if [ "$comp" = none ]; then
    sum=$( { read_source | tee /dev/fd/4 >&3; } 4>&1 | sha256 ) || return;
  else
    sum=$( { read_source | tee /dev/fd/4 | compress >&3; } 4>&1 | sha256 ) || return;
  fi;
  printf 'vms-sha256 src %s\n' "${sum%% *}" >&2;
}
