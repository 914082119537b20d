#!/usr/bin/env bash
# On the destination host: can the copy's key reach the source host's forced command?
#   $1 KEY   the copy's private key (in its key dir, see makeKeyDir.sh)
#   $2 KH    known_hosts holding the source's host key (same dir)
#   $3 HKA   the host key algorithms to accept (the pinned key's type)
#   $4 PORT  the source's sshd port
#   $5 USER  the source's login
#   $6 ADDR  the source's address
#   $7 CIPHERS  the ciphers ssh offers (volume_copy_ssh_ciphers)
# Prints what the forced command answers to `probe` (vms-copy-ok when all is well).
key=$1 kh=$2 hka=$3 port=$4 user=$5 addr=$6 ciphers=$7
source "$(dirname "$0")/lib/fetch.sh"
fetch probe
