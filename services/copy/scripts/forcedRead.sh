#!/usr/bin/env bash
# The direct transport's forced command on the source host (authorized_keys command="..."). The
# arguments are fixed when the copy's key is installed; the key holder chooses only which segment
# of this one volume it reads, through SSH_ORIGINAL_COMMAND:
#   probe         prints vms-copy-ok without reading, so a copy can test the whole path first
#   read OFF LEN  decimal integers (at most 18 digits, so bash's 64-bit arithmetic cannot
#                 overflow), OFF a multiple of BS and OFF+LEN within SIZE; anything else is
#                 refused with exit 126 before any command runs
#   $1 SRC     the volume
#   $2 BS      dd block size
#   $3 SIZE    bytes in the volume
#   $4 DIRECT  1: read with O_DIRECT
#   $5 COMP    none|lz4|zstd|gzip
#   $6 PYTHON  the host's python3 interpreter, or empty: the dd | tee pipeline of
#              lib/readSegment.sh reads; else segment.py does (one process, scripts.ts
#              SEGMENT_PY), piped into COMP when there is one
#   $7 PY      segment.py's text in base64 (one line, as this command must be)
#   $8 TAG     the copy's key tag, unused here: it ends the readers' command line so that
#              endReaders.sh can find what a cut-off copy left running (so segment.py runs as
#              this shell's child, in its process group, never exec'd in its place)
# Prints the segment on stdout and `vms-sha256 src <hex>` on stderr, as segmentRead.sh does.
# Sent as ONE line (authorized_keys has no newlines): scripts.ts drops the comment lines and
# joins the rest with spaces, so every line must end in a terminator (`;`, `{`, `in`) and no
# line may end in a comment.
set -o pipefail;
src=$1 bs=$2 size=$3 direct=$4 comp=$5 python=$6 py=$7;
req=${SSH_ORIGINAL_COMMAND-};
if [ "$req" = probe ]; then echo vms-copy-ok; exit 0; fi;
re='^read (0|[1-9][0-9]{0,17}) ([1-9][0-9]{0,17})$';
if ! [[ $req =~ $re ]]; then echo "vms-copy: request refused" >&2; exit 126; fi;
off=${BASH_REMATCH[1]} len=${BASH_REMATCH[2]};
if (( off % bs != 0 || off + len > size )); then echo "vms-copy: segment refused" >&2; exit 126; fi;
source "$(dirname "$0")/lib/sha256.sh";
source "$(dirname "$0")/lib/compress.sh";
source "$(dirname "$0")/lib/readSegment.sh";
py_read() {
  "$python" -I -S -c 'import base64, sys; exec(compile(base64.b64decode(sys.argv.pop(1)), "segment.py", "exec"))' "$py" read "$src" "$direct" "$bs" "$off" "$len";
};
if [ -z "$python" ]; then read_segment;
elif [ "$comp" = none ]; then py_read;
else py_read | compress; fi
