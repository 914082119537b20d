# One segment of a copy in ONE process, where the host has python3 (every Cinder volume host
# does: cinder-volume is Python). The bash scripts beside this one do the same work as a pipeline
# (dd | tee | dd, the hash on tee's copy): three or four processes, every byte through two or
# three pipes, and tee and openssl reading 8 KiB a syscall. Here a reader, a hasher and a writer
# thread share a few page-aligned 4 MiB buffers (mmap, so O_DIRECT accepts them): the bytes are
# read once, hashed where they lie (hashlib is OpenSSL's, SHA extensions included, and lets go of
# the GIL) and written from the same buffer, while the next chunk is read and the one before is
# written. Output is the bash scripts', so segment.ts reads both alike.
#
#   python3 -c SCRIPT copy     SRC SRCDIRECT DST DSTDIRECT BS OFF LEN SPARSE
#       the source is on this host too: reads it, writes DST; `vms-sha256 src|dst HEX` on stderr
#   python3 -c SCRIPT read     SRC DIRECT BS OFF LEN
#       the segment's bytes on stdout (relay reader); `vms-sha256 src HEX` on stderr
#   python3 -c SCRIPT write    DST DIRECT BS OFF LEN SPARSE [CMD...]
#       writes what arrives on stdin, or on the stdout of CMD (the direct transport's fetch);
#       `vms-sha256 dst HEX` on stderr
#   python3 -c SCRIPT readback DST DIRECT BS OFF LEN
#       `vms-sha256 readback HEX` on stdout: the digest of what is on disk now
# copy and write print dd-like progress on stdout ("N bytes copied", once a second and, after
# fdatasync, the final count) and their errors there too, as segmentWrite.sh's dd does.
# DIRECT 1: O_DIRECT (dropped for a segment that is not whole 4 KiB pages, as dd drops it for
# a short block); SPARSE 1: blocks of BS zero bytes are not written (dd conv=sparse).
import hashlib
import mmap
import os
import queue
import subprocess
import sys
import threading
import time

CHUNK = 4 << 20
# Buffers in flight: one being read, one hashed, one written, and slack so no stage waits on
# another's jitter. 6 x 4 MiB of memory.
DEPTH = 6
PAGE = 4096
F_SETPIPE_SZ = 1031


class Failure(Exception):
    pass


def open_volume(path, writing, direct, off, length):
    flags = os.O_WRONLY if writing else os.O_RDONLY
    if direct and off % PAGE == 0 and length % PAGE == 0:
        flags |= os.O_DIRECT
    try:
        return os.open(path, flags)
    except OSError as e:
        raise Failure("%s: %s" % (path, e.strerror))


def fill_at(fd, off):
    def fill(mv, pos):
        got = 0
        while got < len(mv):
            r = os.preadv(fd, [mv[got:]], off + pos + got)
            if r == 0:
                break
            got += r
        return got
    return fill


def fill_pipe(fd):
    try:
        # Bigger pipe, fewer and larger reads (each syscall costs, on a user-mode-Linux host most).
        import fcntl
        fcntl.fcntl(fd, F_SETPIPE_SZ, 1 << 20)
    except (ImportError, OSError):
        pass

    def fill(mv, pos):
        got = 0
        while got < len(mv):
            r = os.readv(fd, [mv[got:]])
            if r == 0:
                break
            got += r
        return got
    return fill


def write_all(fd, mv, at):
    done = 0
    while done < len(mv):
        if at is None:
            done += os.write(fd, mv[done:])
        else:
            done += os.pwritev(fd, [mv[done:]], at + done)


def sink_at(fd, off, bs, sparse):
    if not sparse:
        return lambda buf, mv, pos: write_all(fd, mv, off + pos)
    zero = bytes(bs)

    # Runs of blocks that hold data go out as one write; blocks of zeros are skipped.
    def sink(buf, mv, pos):
        run = None
        for i in range(0, len(mv), bs):
            j = min(i + bs, len(mv))
            if buf[i:j] == zero[: j - i]:
                if run is not None:
                    write_all(fd, mv[run:i], off + pos + run)
                    run = None
            elif run is None:
                run = i
        if run is not None:
            write_all(fd, mv[run:], off + pos + run)
    return sink


def pump(length, fill, sink, progress=None):
    """Reads `length` bytes with fill, hashes them, hands them to sink; returns the hex digest."""
    free, read, hashed = queue.Queue(), queue.Queue(), queue.Queue()
    for _ in range(DEPTH):
        free.put(mmap.mmap(-1, CHUNK))
    digest = hashlib.sha256()
    errors = []

    def reader():
        try:
            pos = 0
            while pos < length:
                buf = free.get()
                n = min(CHUNK, length - pos)
                mv = memoryview(buf)[:n]
                got = fill(mv, pos)
                if got < n:
                    raise Failure("the input ended at byte %d of the segment's %d" % (pos + got, length))
                read.put((buf, mv, pos))
                pos += n
        except BaseException as e:
            errors.append(e)
        read.put(None)

    def hasher():
        while True:
            item = read.get()
            if item is not None:
                digest.update(item[1])
            hashed.put(item)
            if item is None:
                return

    for stage in (reader, hasher):
        threading.Thread(target=stage, daemon=True).start()
    while True:
        item = hashed.get()
        if item is None:
            break
        buf, mv, pos = item
        if sink is not None:
            sink(buf, mv, pos)
        free.put(buf)
        if progress is not None:
            progress(pos + len(mv))
    if errors:
        raise errors[0]
    return digest.hexdigest()


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


def main(argv):
    mode = argv[0]
    if mode == "copy":
        src, sdirect, dst, ddirect, bs, off, length, sparse = argv[1:9]
        off, length, bs = int(off), int(length), int(bs)
        fin = open_volume(src, False, sdirect == "1", off, length)
        fout = open_volume(dst, True, ddirect == "1", off, length)
        progress = Progress()
        hexdigest = pump(length, fill_at(fin, off), sink_at(fout, off, bs, sparse == "1"), progress)
        store(fout, length, progress)
        # One read, one hash: the bytes written are the bytes hashed (as segmentWrite.sh's local mode).
        say("src", hexdigest)
        say("dst", hexdigest)
    elif mode == "read":
        src, direct, bs, off, length = argv[1:6]
        off, length = int(off), int(length)
        fin = open_volume(src, False, direct == "1", off, length)
        say("src", pump(length, fill_at(fin, off), lambda buf, mv, pos: write_all(1, mv, None)))
    elif mode == "write":
        dst, direct, bs, off, length, sparse = argv[1:7]
        off, length, bs = int(off), int(length), int(bs)
        cmd = argv[7:]
        fout = open_volume(dst, True, direct == "1", off, length)
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE) if cmd else None
        fd = proc.stdout.fileno() if proc else 0
        progress = Progress()
        hexdigest = pump(length, fill_pipe(fd), sink_at(fout, off, bs, sparse == "1"), progress)
        if os.read(fd, 1):
            raise Failure("more bytes arrived than the segment's %d" % length)
        if proc and proc.wait() != 0:
            raise Failure("the source's reader exited %d" % proc.returncode)
        store(fout, length, progress)
        say("dst", hexdigest)
    elif mode == "readback":
        dst, direct, bs, off, length = argv[1:6]
        off, length = int(off), int(length)
        fin = open_volume(dst, False, direct == "1", off, length)
        os.write(1, ("vms-sha256 readback %s\n" % pump(length, fill_at(fin, off), None)).encode())
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
