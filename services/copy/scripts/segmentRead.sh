#!/usr/bin/env bash
# Relay reader, on the source host: reads one segment of a volume and writes it (compressed) to
# stdout; this process pipes it into segmentWrite.sh on the destination host.
#   $1 SRC     the volume (device or file)
#   $2 BS      dd block size (1M, 4096, ...)
#   $3 OFF     first byte of the segment
#   $4 LEN     bytes in the segment
#   $5 DIRECT  1: read with O_DIRECT
#   $6 COMP    none|lz4|zstd|gzip
#   $7 FMT     raw (default): the segment's bytes; extents: its records (lib/extents.sh)
#   $8 CHUNK   with extents: the chunk size of the records
# Prints the segment on stdout and `vms-sha256 src <hex>` (the digest of the uncompressed bytes)
# on stderr.
set -o pipefail
src=$1 bs=$2 off=$3 len=$4 direct=$5 comp=$6 fmt=${7:-raw} chunk=${8-}
source "$(dirname "$0")/lib/sha256.sh"
source "$(dirname "$0")/lib/extents.sh"
source "$(dirname "$0")/lib/compress.sh"
source "$(dirname "$0")/lib/readSegment.sh"
read_segment
