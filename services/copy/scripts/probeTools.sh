#!/usr/bin/env bash
# Which of the tools TOOL... (ssh, lz4, zstd, ...) this host has.
#   $1... TOOL  command names
# Prints the ones found, one a line; always exits 0. python3 counts only where it can run
# segment.py: os.preadv and O_DIRECT (Python 3.7 or later on Linux) and the modules it imports
# (python3-minimal alone lacks mmap and queue).
for t in "$@"; do
  command -v "$t" >/dev/null 2>&1 || continue
  if [ "$t" = python3 ] && ! python3 -I -S -c 'import hashlib, mmap, os, queue, subprocess, sys, threading; sys.exit(not (hasattr(os, "preadv") and hasattr(os, "O_DIRECT")))' 2>/dev/null; then
    continue
  fi
  echo "$t"
done
true
