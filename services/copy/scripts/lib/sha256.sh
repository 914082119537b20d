# shellcheck shell=bash
# Defines sha256: the host's fastest sha256 of stdin, printed as "<hex> ..." (hex digest first).
# OpenSSL uses the CPU's SHA extensions (1 GiB in 0.7 s CPU) where coreutils' sha256sum does not
# (3.5 s). Sourced, not run: scripts.ts puts this text in place of the script's `source` line.
# Every line ends in a terminator, because forcedRead.sh is sent joined into one line.
sha256() {
  if command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 -r; else sha256sum; fi;
}
