#!/usr/bin/env bash
# Which of the tools TOOL... (ssh, lz4, zstd, ...) this host has.
#   $1... TOOL  command names
# Prints the ones found, one a line; always exits 0.
for t in "$@"; do command -v "$t" >/dev/null 2>&1 && echo "$t"; done; true
