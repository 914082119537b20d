#!/usr/bin/env bash
# On the destination host: makes a private temp dir holding the copy's private key (`key`, 0600,
# read from stdin) and the source's host key (`known_hosts`).
#   $1 KNOWN_HOSTS_LINE  the source's host key as a known_hosts line
#   stdin                the copy's private key
# Prints the dir's path (…/vms-copy.XXXXXXXX); removeKeyDir.sh removes it.
set -e
umask 077
d=$(mktemp -d "${TMPDIR:-/tmp}/vms-copy.XXXXXXXX")
cat >"$d/key"
chmod 600 "$d/key"
printf '%s\n' "$1" >"$d/known_hosts"
printf '%s\n' "$d"
