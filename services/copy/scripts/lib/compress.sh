# shellcheck shell=bash
# Defines compress: stdin to stdout, compressed with $comp (lz4|zstd|gzip, their fastest level;
# zstd on every core); and decompress, its inverse. Sourced, not run: scripts.ts puts this text in place of the script's
# `source` line. Every line ends in a terminator, because forcedRead.sh is sent joined into one line.
compress() {
  # shellcheck disable=SC2154 # comp is set by the sourcing script
  case $comp in
    lz4) lz4 -1 -q -c ;;
    zstd) zstd -1 -T0 -q -c ;;
    gzip) gzip -1 -c ;;
    *) echo "vms-copy: unknown compression $comp" >&2; return 2 ;;
  esac;
};
decompress() {
  case $comp in
    lz4) lz4 -d -q -c ;;
    zstd) zstd -d -q -c ;;
    gzip) gzip -d -c ;;
    *) echo "vms-copy: unknown compression $comp" >&2; return 2 ;;
  esac;
}
