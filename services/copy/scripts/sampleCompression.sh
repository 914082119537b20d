#!/usr/bin/env bash
# On the source host, for "auto" compression: how many bytes COMP makes of 1 MiB read at each
# offset, so that data which does not compress (random or already compressed) is sent as is
# instead of costing CPU on both hosts.
#   $1 SRC      the volume
#   $2 COMP     lz4|zstd|gzip (run as `COMP -1 -c`)
#   $3 DIRECT   1: read with O_DIRECT
#   $4... OFF   offsets in MiB
# Prints the compressed sizes of all samples, summed, in bytes.
set -o pipefail
src=$1 comp=$2 direct=$3; shift 3
iflag=; [ "$direct" = 1 ] && iflag=iflag=direct
total=0
for off in "$@"; do
  n=$(dd if="$src" bs=1M skip="$off" count=1 $iflag status=none | "$comp" -1 -c | wc -c) || exit 1
  total=$((total + n))
done
echo "$total"
