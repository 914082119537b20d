#!/usr/bin/env bash
# On the host that holds a volume or snapshot: the sha256 of each chunk of it, for comparing two
# states of a volume (what changed between consecutive snapshots) and for verifying a copy.
#   $1 SRC     the volume or snapshot (device or file)
#   $2 BS      dd block size (divides CHUNK)
#   $3 SIZE    bytes to cover
#   $4 CHUNK   bytes per chunk (the last chunk may be shorter)
#   $5 DIRECT  1: read with O_DIRECT
#   $6 MAP     1: a file whose holes lseek(SEEK_DATA/SEEK_HOLE) reports (perl, as lib/extents.sh):
#              chunks without any data are not read (a file system without SEEK_DATA: all are)
# Prints, for each chunk in order, `vms-sha256 <index> <hex>` or, for a chunk that is all hole,
# `vms-hole <index>` (its digest is that of zeros) on stdout.
set -o pipefail
src=$1 bs=$2 size=$3 chunk=$4 direct=$5 map=${6:-0}
source "$(dirname "$0")/lib/sha256.sh"
iflag=skip_bytes,count_bytes
[ "$direct" = 1 ] && iflag=$iflag,direct
declare -A data=()
all=1
if [ "$map" = 1 ] && command -v perl >/dev/null 2>&1; then
  chunks=$(perl -e '
    use strict; use warnings;
    my ($f, $size, $c) = @ARGV;
    open(my $h, "<:raw", $f) or die "vms-copy: $f: $!\n";
    my $p = 0;
    while ($p < $size) {
      my $d = sysseek($h, $p, 3);
      if (!defined $d) { last if $!{ENXIO}; die "vms-copy: seek $f: $!\n" unless $!{EINVAL}; print "all\n"; exit 0; }
      last if $d >= $size;
      my $hole = sysseek($h, $d, 4);
      $hole = $size if !defined $hole || $hole > $size;
      for (my $i = int($d / $c); $i * $c < $hole; $i++) { print "$i\n"; }
      $p = $hole;
    }
  ' "$src" "$size" "$chunk") || exit
  if [ "$chunks" != all ]; then
    all=0
    for i in $chunks; do data[$i]=1; done
  fi
fi
i=0 off=0
while [ "$off" -lt "$size" ]; do
  len=$chunk
  [ $((size - off)) -lt "$len" ] && len=$((size - off))
  if [ "$all" = 1 ] || [ -n "${data[$i]-}" ]; then
    printf 'vms-sha256 %s ' "$i"
    dd if="$src" bs="$bs" skip="$off" count="$len" iflag=$iflag status=none | sha256 || exit
  else
    printf 'vms-hole %s\n' "$i"
  fi
  i=$((i + 1)) off=$((off + len))
done
