#!/usr/bin/env bash
# On the destination host: removes a dir makeKeyDir.sh made, and nothing else.
#   $1 DIR  the dir makeKeyDir.sh printed; a path without /vms-copy. is refused (exit 2)
# Prints nothing.
case $1 in */vms-copy.*) rm -rf -- "$1" ;; *) echo "vms-copy: not a key dir" >&2; exit 2 ;; esac
