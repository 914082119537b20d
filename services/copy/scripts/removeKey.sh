#!/usr/bin/env bash
# On the source host: drops the lines ending in ` TAG` (the copy's own key comment) from an
# authorized_keys file by writing a copy with the same mode and renaming it over the file, so a
# crash leaves either the old or the new file, never a truncated one. Locks as addKey.sh does.
#   $1 FILE  the authorized_keys file; empty: ~/.ssh/authorized_keys
#   $2 TAG   vms-copy-<hex>; anything else is refused (exit 2)
# Prints nothing; a file or line that is not there is not an error.
set -e
f=${1:-$HOME/.ssh/authorized_keys} tag=$2
case $tag in vms-copy-[0-9a-f]*) ;; *) echo "vms-copy: bad tag" >&2; exit 2 ;; esac
[ -e "$f" ] || exit 0
exec 9<"$(dirname "$f")"
command -v flock >/dev/null 2>&1 && flock -w 30 9
grep -q -e " $tag$" "$f" || exit 0
tmp=$(mktemp "$f.vms.XXXXXX")
grep -v -e " $tag$" "$f" >"$tmp" || [ $? -eq 1 ]
chmod --reference="$f" "$tmp"
mv -f "$tmp" "$f"
