#!/usr/bin/env bash
# On the source host, once a direct copy has ended: ends whatever is left of its readers. A reader
# is the forced command's shell (its last argument is the copy's TAG) and the dd under it, in the
# process group sshd gave that session. After a network cut the destination's ssh client is gone,
# but the source's sshd learns it only when TCP gives up retransmitting (minutes; sooner only with
# ClientAliveInterval), and until then dd keeps the volume open: the migration's cleanup could not
# delete what it made, nor could a retry open the LV exclusively.
#   $1 TAG   vms-copy-<hex>; anything else is refused (exit 2)
# Prints `vms-copy: ended N` (the process groups signalled); a host without pgrep ends nothing.
tag=$1
case $tag in vms-copy-[0-9a-f]*) ;; *) echo "vms-copy: bad tag" >&2; exit 2 ;; esac
command -v pgrep >/dev/null 2>&1 || { echo "vms-copy: ended 0"; exit 0; }
# /proc/PID/stat is "pid (comm) state ppid pgrp …"; comm may hold spaces, so cut after its ")".
pgid_of() {
  local stat f
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  read -r -a f <<<"${stat##*) }"
  echo "${f[2]}"
}
mine=$(pgid_of $$)
n=0
# A reader's command line ends in "vms-copy-read SRC BS SIZE DIRECT COMP TAG". This script's own
# holds that pattern too (its process group is skipped); remove-key's has the tag but not the name.
for pid in $(pgrep -f -- "vms-copy-read .* $tag\$"); do
  pg=$(pgid_of "$pid") || continue
  if [ -n "$pg" ] && [ "$pg" != "$mine" ] && [ "$pg" != 0 ]; then
    kill -TERM -- "-$pg" 2>/dev/null && n=$((n + 1))
  fi
done
echo "vms-copy: ended $n"
