#!/usr/bin/env bash
# On the source host: appends one line to an authorized_keys file, adding the newline a
# hand-edited file may lack. The file's directory is locked (flock, where present) so concurrent
# copies do not interleave.
#   $1 FILE  the authorized_keys file; empty: ~/.ssh/authorized_keys
#   $2 LINE  the line (the copy's key behind its forced command)
# Prints nothing.
set -e
f=${1:-$HOME/.ssh/authorized_keys}
umask 077
mkdir -p "$(dirname "$f")"
exec 9<"$(dirname "$f")"
command -v flock >/dev/null 2>&1 && flock -w 30 9
if [ -s "$f" ] && [ -n "$(tail -c1 "$f")" ]; then printf '\n' >>"$f"; fi
printf '%s\n' "$2" >>"$f"
