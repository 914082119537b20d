#!/usr/bin/env bash
# Writer, on the destination host: writes one segment of the volume, hashing what it writes.
#   $1 DST     the destination volume
#   $2 BS      dd block size
#   $3 OFF     first byte of the segment
#   $4 LEN     bytes in the segment
#   $5 DIRECT  1: write with O_DIRECT
#   $6 SPARSE  1: conv=sparse (leave zero blocks unwritten); extents: the segment arrives as
#              lib/extents.sh records, applied as such (the destination must read zeros)
#   $7 COMP    none|lz4|zstd|gzip, how the segment arrives
#   $8 MODE    where the segment comes from:
#              relay   stdin (segmentRead.sh on the source host, piped through this process)
#              direct  fetched from the source host's forced command with the copy's key; then
#                      $9 KEY $10 KH $11 HKA $12 PORT $13 USER $14 ADDR $15 CIPHERS as in
#                      probeDirect.sh
#              local   read here, the source being on this same host; then $9 SRC $10 SRCDIRECT
#                      and, with extents, ${11} CHUNK
# Prints dd's progress (status=progress, every second, and its final count) on stdout, and
# `vms-sha256 dst <hex>` (the digest of the bytes written) on stderr; in local mode also the
# reader's `vms-sha256 src <hex>` (uncompressed, that is one pipe on one host, hashed once: a
# second hash of the bytes that pipe carries would prove nothing more and costs a core). dd's
# progress also makes a writer whose consumer is gone die of SIGPIPE within a second. conv=fdatasync: "dd exited 0" means the segment is on stable
# storage, O_DIRECT or not (O_DIRECT alone does not flush a volatile device cache).
set -o pipefail
dst=$1 bs=$2 off=$3 len=$4 direct=$5 sparse=$6 comp=$7 mode=$8
key=$9 kh=${10} hka=${11} port=${12} user=${13} addr=${14} ciphers=${15}
oflag=seek_bytes conv=notrunc,fdatasync
[ "$direct" = 1 ] && oflag=$oflag,direct
[ "$sparse" = 1 ] && conv=$conv,sparse
exec 3>&1
source "$(dirname "$0")/lib/sha256.sh"
source "$(dirname "$0")/lib/extents.sh"
write_segment() {
  if [ "$sparse" = extents ]; then
    write_extents >&3 2>&3
  else
    dd of="$dst" bs="$bs" seek="$off" count="$len" iflag=fullblock,count_bytes oflag=$oflag conv=$conv status=progress 2>&3 >/dev/null
  fi
}
sink() {
  {
    if [ "$comp" = none ]; then tee /dev/fd/4; else decompress | tee /dev/fd/4; fi | write_segment
  } 4>&1 | sha256
}
source "$(dirname "$0")/lib/compress.sh"
source "$(dirname "$0")/lib/readSegment.sh"
source "$(dirname "$0")/lib/fetch.sh"
case $mode in
  relay) sum=$(sink) ;;
  # The source is on this host too (another LV, another file): read it here, no network at all.
  local)
    fmt=raw chunk=${11-}
    [ "$sparse" = extents ] && fmt=extents
    if [ "$comp" = none ]; then
      sum=$(src=$9 direct=${10}; { read_source | tee /dev/fd/4 | write_segment; } 4>&1 | sha256) || exit
      printf 'vms-sha256 src %s\n' "${sum%% *}" >&2
    else
      sum=$(src=$9 direct=${10}; read_segment | sink)
    fi ;;
  direct) sum=$(fetch "read $off $len" | sink) ;;
  *) echo "vms-copy: unknown mode $mode" >&2; exit 2 ;;
esac || exit
printf 'vms-sha256 dst %s\n' "${sum%% *}" >&2
