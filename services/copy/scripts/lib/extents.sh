# shellcheck shell=bash
# The `extents` format of a segment, for sources whose holes lseek(SEEK_DATA/SEEK_HOLE) reports
# (files): only data is read, and only chunks that are not all zeros travel, as records
#   w OFFSET LENGTH\n<LENGTH bytes>      (OFFSET absolute in the volume, whole chunks)
#   e SEGOFF SEGLEN\n                    (the end: the segment is complete)
# The record stream depends on the bytes alone, never on which blocks happen to be allocated (a
# data chunk of zeros is left out exactly as a hole is), so both hosts hash it the same way: the
# source as it reads, the destination as it receives and again when it reads its own copy back.
# An all-zero segment is the constant stream `e SEGOFF SEGLEN`; hole ranges cost nothing.
# perl, not python: perl-base is Essential on Debian and Ubuntu (on every storage host there),
# and its sysseek is a plain lseek(2); filefrag's FIEMAP output varies by version and misses
# tmpfs. The engine probes for perl and copies the dense way where it is missing.
# Sourced, not run: scripts.ts puts this text in place of the script's `source` line.
#
# read_extents: the records of $len bytes at $off of $src, chunks of $chunk bytes, on stdout.
# A file system without SEEK_DATA (lseek says EINVAL) is read whole, zero chunks still left out.
read_extents() {
  # shellcheck disable=SC2154 # src, off, len and chunk are set by the sourcing script
  perl -e '
    use strict; use warnings;
    my ($f, $off, $len, $c) = @ARGV;
    open(my $h, "<:raw", $f) or die "vms-copy: $f: $!\n";
    my $end = $off + $len; my $zero = "\0" x $c; my $p = $off; my $map = 1;
    sub out { my ($s) = @_; my $o = 0; while ($o < length $s) { my $w = syswrite(STDOUT, $s, length($s) - $o, $o); die "vms-copy: write: $!\n" unless defined $w; $o += $w; } }
    while ($p < $end) {
      my $d = $map ? sysseek($h, $p, 3) : $p;
      if (!defined $d) { last if $!{ENXIO}; die "vms-copy: seek $f: $!\n" unless $!{EINVAL}; $map = 0; $d = $p; }
      last if $d >= $end;
      my $hole = $map ? sysseek($h, $d, 4) : $end;
      $hole = $end if !defined $hole || $hole > $end;
      my $q = $off + int(($d - $off) / $c) * $c;
      while ($q < $hole) {
        my $n = $end - $q < $c ? $end - $q : $c; my $buf = ""; my $got = 0;
        defined sysseek($h, $q, 0) or die "vms-copy: seek $f: $!\n";
        while ($got < $n) { my $r = sysread($h, $buf, $n - $got, $got); die "vms-copy: read $f: $!\n" unless defined $r; last if $r == 0; $got += $r; }
        die "vms-copy: $f ends inside its segment\n" if $got < $n;
        if ($buf ne substr($zero, 0, $n)) { out("w $q $n\n"); out($buf); }
        $q += $n;
      }
      $p = $q;
    }
    out("e $off $len\n");
  ' "$src" "$off" "$len" "$chunk"
}
# write_extents: applies the records on stdin to $dst (data only: the destination must read zeros
# where nothing is written, the endpoint's sparseTarget), fsyncs it, and prints dd-like progress
# ("N bytes" of the segment passed, once a second and at the end) on stdout. A record out of the
# segment or out of order, or a stream that ends before its `e` record, fails the segment.
write_extents() {
  # shellcheck disable=SC2154 # dst, off and len are set by the sourcing script
  perl -e '
    use strict; use warnings; use IO::Handle;
    my ($f, $off, $len) = @ARGV;
    open(my $h, "+<:raw", $f) or die "vms-copy: $f: $!\n";
    binmode STDIN; $| = 1;
    my $end = $off + $len; my $next = $off; my $shown = time;
    while (my $line = <STDIN>) {
      if ($line eq "e $off $len\n") { $h->sync or die "vms-copy: fsync $f: $!\n"; close $h or die "vms-copy: $f: $!\n"; print "$len bytes copied\n"; exit 0; }
      $line =~ /^w (\d{1,18}) (\d{1,18})\n\z/ && $1 >= $next && $2 > 0 && $1 + $2 <= $end or die "vms-copy: bad record\n";
      my ($q, $n) = ($1, $2); my $buf = "";
      my $got = read(STDIN, $buf, $n);
      die "vms-copy: the stream ended inside a record\n" unless defined $got && $got == $n;
      defined sysseek($h, $q, 0) or die "vms-copy: seek $f: $!\n";
      my $o = 0; while ($o < $n) { my $w = syswrite($h, $buf, $n - $o, $o); die "vms-copy: write $f: $!\n" unless defined $w; $o += $w; }
      $next = $q + $n;
      if (time != $shown) { $shown = time; print $next - $off, " bytes\n"; }
    }
    die "vms-copy: the stream ended before its segment did\n";
  ' "$dst" "$off" "$len"
}
