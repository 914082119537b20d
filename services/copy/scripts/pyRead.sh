#!/usr/bin/env bash
# Relay reader, on the source host, where segment.py reads and the segment travels compressed:
# segment.py's `read` (its bytes or extents records, hashed as it reads) piped into COMP.
#   $1 PY    segment.py's text
#   $2 COMP  lz4|zstd|gzip
#   $3...    segment.py's `read` arguments (and its map on this script's stdin, when it takes one)
# Prints the compressed segment on stdout and segment.py's `vms-sha256 src <hex>` on stderr.
set -o pipefail
py=$1 comp=$2
shift 2
source "$(dirname "$0")/lib/compress.sh"
python3 -I -S -c "$py" "$@" | compress
