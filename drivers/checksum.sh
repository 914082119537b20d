#!/usr/bin/env bash
# On the host that holds the volume: sha256 of its first SIZE bytes.
#   $1 PATH  the volume (device or file)
#   $2 BS    dd block size
#   $3 SIZE  bytes to hash
# Prints sha256sum's line: `<hex>  -`.
set -o pipefail 2>/dev/null; dd if="$1" bs="$2" count="$3" iflag=count_bytes status=none | sha256sum
