#!/usr/bin/env bash
# Relay reader, on the source host, where segment.py reads and the segment travels compressed:
# segment.py's `read` (its bytes or extents records, hashed as it reads) piped into COMP.
#   $1 PYTHON  the host's python3 interpreter
#   $2 PY      segment.py's text
#   $3 COMP    lz4|zstd|gzip
#   $4...      segment.py's `read` arguments (and its map on this script's stdin, when it takes one)
# Prints the compressed segment on stdout and segment.py's `vms-sha256 src <hex>` on stderr.
set -o pipefail
python=$1 py=$2 comp=$3
shift 3
source "$(dirname "$0")/lib/compress.sh"
"$python" -I -S -c "$py" "$@" | compress
