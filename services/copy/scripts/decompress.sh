#!/usr/bin/env bash
# On the destination host: a relayed segment arriving compressed, decompressed; segment.py's
# `write` runs it on its own stdin and writes and hashes what it prints.
#   $1 COMP  lz4|zstd|gzip
comp=$1
source "$(dirname "$0")/lib/compress.sh"
decompress
