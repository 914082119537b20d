# shellcheck shell=bash
# Defines `fetch REQUEST`: the destination host asks the source host's forced command
# (forcedRead.sh) for REQUEST with the copy's key, printing what it answers. Only the copy's key
# dir, the pinned host key type, the source's endpoint and the ciphers offered vary (key kh hka
# port user addr ciphers, set by the sourcing script); no user ssh config applies (-F none).
# Sourced, not run: scripts.ts puts this text in place of the script's `source` line.
fetch() {
  # shellcheck disable=SC2154 # key kh hka port user addr ciphers are set by the sourcing script
  ssh -n -F none -i "$key" -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes \
    -o UserKnownHostsFile="$kh" -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes \
    -o HostKeyAlgorithms="$hka" -o ConnectTimeout=15 -o ServerAliveInterval=15 -o LogLevel=ERROR \
    -o Ciphers="$ciphers" \
    -p "$port" -l "$user" -- "$addr" "$1"
}
