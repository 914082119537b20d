#!/usr/bin/env bash
# On the destination host: asks the source host's forced command (forcedRead.sh) for REQUEST with
# the copy's key and prints its answer (the segment's bytes), decompressed; segment.py's `write`
# runs it so that one process writes and hashes what the direct transport fetches.
#   $1 KEY $2 KH $3 HKA $4 PORT $5 USER $6 ADDR $7 CIPHERS  as in probeDirect.sh
#   $8 REQUEST  `read OFF LEN`
#   $9 COMP     none|lz4|zstd|gzip: how the forced command sends it
set -o pipefail
key=$1 kh=$2 hka=$3 port=$4 user=$5 addr=$6 ciphers=$7 comp=$9
source "$(dirname "$0")/lib/fetch.sh"
source "$(dirname "$0")/lib/compress.sh"
if [ "$comp" = none ]; then fetch "$8"; else fetch "$8" | decompress; fi
