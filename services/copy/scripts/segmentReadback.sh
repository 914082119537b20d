#!/usr/bin/env bash
# On the destination host, after the segment is written and synced: the digest of what is on
# disk now (O_DIRECT when asked, so it comes from the device and not the page cache).
#   $1 DST     the destination volume
#   $2 BS      dd block size
#   $3 OFF     first byte of the segment
#   $4 LEN     bytes in the segment
#   $5 DIRECT  1: read with O_DIRECT
#   $6 FMT     raw (default) or extents: hash the records lib/extents.sh makes of what is on disk
#   $7 CHUNK   with extents: the chunk size of the records
# Prints `vms-sha256 readback <hex>` on stdout.
set -o pipefail
source "$(dirname "$0")/lib/sha256.sh"
source "$(dirname "$0")/lib/extents.sh"
iflag=skip_bytes,count_bytes
[ "$5" = 1 ] && iflag=$iflag,direct
if [ "${6:-raw}" = extents ]; then
  sum=$(src=$1 off=$3 len=$4 chunk=$7; read_extents | sha256) || exit
else
  sum=$(dd if="$1" bs="$2" skip="$3" count="$4" iflag=$iflag status=none | sha256) || exit
fi
printf 'vms-sha256 readback %s\n' "${sum%% *}"
