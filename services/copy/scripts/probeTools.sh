#!/usr/bin/env bash
# Which of the tools TOOL... (ssh, lz4, zstd, ...) this host has.
#   $1... TOOL  command names
# Prints the ones found, one a line; always exits 0. python3 counts only where it can run
# segment.py: os.preadv and O_DIRECT (Python 3.7 or later on Linux) and the modules it imports
# (python3-minimal alone lacks mmap and queue); it then prints `python3=PATH` too, the
# interpreter itself (sys.executable), so that a copy starts it without a wrapper such as a
# pyenv shim (a shell and then some, per start).
for t in "$@"; do
  command -v "$t" >/dev/null 2>&1 || continue
  if [ "$t" = python3 ]; then
    python3 -I -S -c 'import hashlib, mmap, os, queue, subprocess, sys, threading; print("python3=" + sys.executable) if hasattr(os, "preadv") and hasattr(os, "O_DIRECT") and sys.executable else sys.exit(1)' 2>/dev/null || continue
  fi
  echo "$t"
done
true
