# One segment of a copy in ONE process, where the host has python3 (every Cinder volume host
# does: cinder-volume is Python). The bash scripts beside this one do the same work as a pipeline
# (dd | tee | dd, the hash on tee's copy): three or four processes, every byte through two or
# three pipes, and tee and openssl reading 8 KiB a syscall. Here the bytes are read into a
# page-aligned 4 MiB buffer (mmap, so O_DIRECT accepts it), hashed where they lie (hashlib is
# OpenSSL's, SHA extensions included, and lets go of the GIL) and written from the same buffer;
# on a host with more than one CPU a reader, a hasher and a writer thread share a few such
# buffers, so the next chunk is read while one is hashed and the one before written. Output is
# the bash scripts', so segment.ts reads both alike. Run as `python3 -I -S`: the standard library
# only, whatever the host's PYTHON* variables and site packages.
#
#   python3 -c SCRIPT copy     SRC SRCDIRECT DST DSTDIRECT BS OFF LEN SPARSE [CHUNK [stdin]]
#       the source is on this host too: reads it, writes DST; `vms-sha256 src|dst HEX` on stderr.
#       SPARSE `extents` (with CHUNK): only the source's data chunks are read and only those not
#       all zeros written, hashed as lib/extents.sh's records (the destination must read zeros).
#       The data chunks are those lseek(SEEK_DATA) finds or, with `stdin`, those of the byte
#       ranges listed on stdin (thinMap.py's `OFF LEN` lines: a thin LV's mapped blocks)
#   python3 -c SCRIPT read     SRC DIRECT BS OFF LEN [extents CHUNK [stdin]]
#       the segment's bytes (or its extents records) on stdout (relay reader); `vms-sha256 src
#       HEX` on stderr
#   python3 -c SCRIPT write    DST DIRECT BS OFF LEN SPARSE [CMD...]
#       writes what arrives on stdin, or on the stdout of CMD (the direct transport's fetch, or a
#       decompressor of the relayed stream, which then reads this process's stdin);
#       `vms-sha256 dst HEX` on stderr
#   python3 -c SCRIPT readback DST DIRECT BS OFF LEN [extents CHUNK [stdin]]
#       `vms-sha256 readback HEX` on stdout: the digest of what is on disk now (of its records)
# copy and write print dd-like progress on stdout ("N bytes copied", once a second and, after
# fdatasync, the final count) and their errors there too, as segmentWrite.sh's dd does.
# DIRECT 1: O_DIRECT (dropped for a segment that is not whole 4 KiB pages, as dd drops it for
# a short block); SPARSE 1: blocks of BS zero bytes are not written (dd conv=sparse).
# `copy --paced …` and `write --paced … CMD…` keep to a bandwidth limit that arrives on stdin, a
# line at a time (bytes per second, or `none`), so the service can change it while the segment
# runs; the segment starts once the first line is there. A copy given a map on stdin as well
# reads the map up to its `end` line first; the limit lines follow it.
# Only what every mode needs is imported up front: on a slow host (user-mode Linux) each module
# costs tens of milliseconds, and a copy starts this script once a segment. The program is
# segmentLayout.py (where the bytes are, how they are read and written: CHUNK, fill_*, sink_at,
# the layouts) followed by this file.
import hashlib
import mmap
import os
import sys
import time

# Buffers in flight: one being read, one hashed, one written, and slack so no stage waits on
# another's jitter. 6 x 4 MiB of memory.
DEPTH = 6


def pump(length, pieces, fill, sink, progress=None, extents_at=None):
    """Reads the pieces with fill, hashes them, hands them to sink; returns the hex digest.
    extents_at (the segment's offset): hash lib/extents.sh's records instead of the bytes, that
    is `w OFFSET LENGTH` and the chunk for each chunk that is not all zeros (the others are
    neither hashed nor handed on), then `e SEGOFF SEGLEN`."""
    digest = hashlib.sha256()

    def read(buf, pos, n):
        mv = memoryview(buf)[:n]
        got = fill(mv, pos)
        if got < n:
            raise Failure("the input ended at byte %d of the segment's %d" % (pos + got, length))
        return mv

    def hash_piece(buf, mv, pos):
        """Whether the piece goes on to the sink."""
        if extents_at is None:
            digest.update(mv)
        elif all_zero(mv):
            return False
        else:
            digest.update(b"w %d %d\n" % (extents_at + pos, len(mv)))
            digest.update(mv)
        return True

    def put(buf, mv, pos, data):
        if sink is not None and data:
            sink(buf, mv, pos)
        if progress is not None:
            progress(pos + len(mv))

    if len(os.sched_getaffinity(0)) > 1:
        threaded(pieces, read, hash_piece, put)
    else:
        # One CPU: the stages could not run at once, and handing buffers between threads only
        # costs (on a user-mode-Linux host, ten times the copy's own time).
        buf = mmap.mmap(-1, CHUNK)
        for pos, n in pieces:
            mv = read(buf, pos, n)
            put(buf, mv, pos, hash_piece(buf, mv, pos))
    if extents_at is not None:
        digest.update(b"e %d %d\n" % (extents_at, length))
    return digest.hexdigest()


def threaded(pieces, read, hash_piece, put):
    """The stages as a reader thread, a hasher thread and this one putting, over DEPTH buffers:
    chunk k+1 is read while chunk k is hashed and chunk k-1 written."""
    import queue
    import threading

    free, got, hashed = queue.Queue(), queue.Queue(), queue.Queue()
    for _ in range(DEPTH):
        free.put(mmap.mmap(-1, CHUNK))
    errors = []

    def reader():
        try:
            for pos, n in pieces:
                buf = free.get()
                got.put((buf, read(buf, pos, n), pos))
        except BaseException as e:
            errors.append(e)
        got.put(None)

    def hasher():
        while True:
            item = got.get()
            if item is not None:
                try:
                    item += (hash_piece(*item),)
                except BaseException as e:
                    errors.append(e)
                    item = None
            hashed.put(item)
            if item is None:
                return

    for stage in (reader, hasher):
        threading.Thread(target=stage, daemon=True).start()
    while True:
        item = hashed.get()
        if item is None:
            break
        put(*item)
        free.put(item[0])
    if errors:
        raise errors[0]


class Pace:
    """Writes at no more than the latest limit read from stdin (volume bytes per second)."""

    def __init__(self):
        import threading

        self.limit = None
        self.next_at = time.monotonic()
        first = threading.Event()

        def listen():
            # Ends at EOF (the last limit stays) or at a line that is no limit (then unpaced);
            # either way the segment must not wait for a first line that will never come.
            try:
                for line in sys.stdin:
                    word = line.strip()
                    self.limit = None if word == "none" else max(1, int(word))
                    first.set()
            finally:
                first.set()

        threading.Thread(target=listen, daemon=True).start()
        first.wait()

    def __call__(self, n):
        now = time.monotonic()
        limit = self.limit
        if limit is None:
            self.next_at = now
            return
        self.next_at = max(self.next_at, now) + n / limit
        if self.next_at > now:
            time.sleep(self.next_at - now)


def paced(sink, pace):
    if pace is None:
        return sink

    def sink_paced(buf, mv, pos):
        pace(len(mv))
        sink(buf, mv, pos)
    return sink_paced


class Progress:
    def __init__(self):
        self.shown = time.monotonic()

    def __call__(self, n, final=False):
        now = time.monotonic()
        if final or now - self.shown >= 1:
            self.shown = now
            os.write(1, ("%d bytes copied\n" % n).encode())


def say(side, hexdigest):
    os.write(2, ("vms-sha256 %s %s\n" % (side, hexdigest)).encode())


def store(fd, length, progress):
    try:
        os.fdatasync(fd)
    except OSError as e:
        raise Failure("fdatasync: %s" % e.strerror)
    progress(length, final=True)


def reading(path, direct, off, length, tail):
    """read's and readback's volume, opened, with its pieces and extents offset for pump:
    `tail` is the arguments after LEN, nothing or `extents CHUNK [stdin]`."""
    fd = open_volume(path, False, direct, off, length)
    pieces, at = data_layout(fd, off, length, tail[1:3] if tail[:1] == ["extents"] else [])
    return fd, pieces, at


def main(argv):
    mode = argv[0]
    pacing = argv[1:2] == ["--paced"]
    if pacing:
        del argv[1]
    if mode == "copy":
        src, sdirect, dst, ddirect, bs, off, length, sparse = argv[1:9]
        off, length, bs = int(off), int(length), int(bs)
        fin = open_volume(src, False, sdirect == "1", off, length)
        fout = open_volume(dst, True, ddirect == "1", off, length)
        progress = Progress()
        pieces, at = data_layout(fin, off, length, argv[9:11] if sparse == "extents" else [])
        # A map on stdin comes first (up to its `end` line), the limit lines after it.
        pace = Pace() if pacing else None
        sink = paced(sink_at(fout, off, bs, sparse == "1"), pace)
        hexdigest = pump(length, pieces, fill_at(fin, off), sink, progress, at)
        store(fout, length, progress)
        # One read, one hash: the bytes written are the bytes hashed (as segmentWrite.sh's local mode).
        say("src", hexdigest)
        say("dst", hexdigest)
    elif mode == "read":
        src, direct, bs, off, length = argv[1:6]
        off, length = int(off), int(length)
        fin, pieces, at = reading(src, direct == "1", off, length, argv[6:])
        if at is None:
            say("src", pump(length, pieces, fill_at(fin, off), lambda buf, mv, pos: write_all(1, mv, None)))
        else:
            # lib/extents.sh's records, as read_extents writes them for write_extents to apply.
            def record(buf, mv, pos):
                write_all(1, b"w %d %d\n" % (off + pos, len(mv)), None)
                write_all(1, mv, None)

            say("src", pump(length, pieces, fill_at(fin, off), record, None, at))
            write_all(1, b"e %d %d\n" % (off, length), None)
    elif mode == "write":
        pace = Pace() if pacing else None
        dst, direct, bs, off, length, sparse = argv[1:7]
        off, length, bs = int(off), int(length), int(bs)
        cmd = argv[7:]
        fout = open_volume(dst, True, direct == "1", off, length)
        proc = None
        if cmd:
            import subprocess

            # A decompressor reads the relayed stream on this process's stdin; a paced writer's
            # stdin carries its limit instead.
            stdin = subprocess.DEVNULL if pace else None
            proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE)
        fd = proc.stdout.fileno() if proc else 0
        progress = Progress()
        sink = paced(sink_at(fout, off, bs, sparse == "1"), pace)
        hexdigest = pump(length, whole(length), fill_pipe(fd), sink, progress)
        if os.read(fd, 1):
            raise Failure("more bytes arrived than the segment's %d" % length)
        if proc and proc.wait() != 0:
            raise Failure("what fed the segment (fetch or decompressor) exited %d" % proc.returncode)
        store(fout, length, progress)
        say("dst", hexdigest)
    elif mode == "readback":
        dst, direct, bs, off, length = argv[1:6]
        off, length = int(off), int(length)
        fin, pieces, at = reading(dst, direct == "1", off, length, argv[6:])
        os.write(1, ("vms-sha256 readback %s\n" % pump(length, pieces, fill_at(fin, off), None, None, at)).encode())
    else:
        raise Failure("unknown mode %s" % mode)


try:
    main(sys.argv[1:])
except (Failure, OSError, ValueError, IndexError) as e:
    msg = ("vms-copy: %s\n" % e).encode()
    os.write(2, msg)
    if sys.argv[1:2] in (["copy"], ["write"]):
        try:
            os.write(1, msg)
        except OSError:
            pass
    os._exit(1)
os._exit(0)
