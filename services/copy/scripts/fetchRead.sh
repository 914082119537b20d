#!/usr/bin/env bash
# On the destination host: asks the source host's forced command (forcedRead.sh) for REQUEST with
# the copy's key and prints its answer (the segment's bytes); segment.py's `write` runs it so that
# one process writes and hashes what the direct transport fetches.
#   $1 KEY $2 KH $3 HKA $4 PORT $5 USER $6 ADDR $7 CIPHERS  as in probeDirect.sh
#   $8 REQUEST  `read OFF LEN`
key=$1 kh=$2 hka=$3 port=$4 user=$5 addr=$6 ciphers=$7
source "$(dirname "$0")/lib/fetch.sh"
fetch "$8"
