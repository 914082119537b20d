# The first part of segment.py's program (scripts.ts sends the two files as one, this one
# first): where a segment's bytes are and how they are read and written. segment.py's header says
# what the program does and how it is run.
import errno
import os
import sys

CHUNK = 4 << 20
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


def all_zero(mv):
    """Whether MV (a contiguous view of bytes) holds only zeros, compared where it lies: its first
    word is zero and every word equals the one before. Comparing slices (`buf[i:j] == zero[:n]`)
    copies both into new bytes objects, and on a user-mode-Linux host the page faults of those
    copies cost about 90 ms a MiB (measured: a thin copy's read-back spent 2.2 of its 2.5 s there);
    this costs 0.3 ms a MiB there, as here."""
    n = len(mv)
    if n == 0:
        return True
    words = mv.cast("Q") if n % 8 == 0 else mv
    return words[0] == 0 and words[1:] == words[:-1]


def sink_at(fd, off, bs, sparse):
    if not sparse:
        return lambda buf, mv, pos: write_all(fd, mv, off + pos)

    # Runs of blocks that hold data go out as one write; blocks of zeros are skipped.
    def sink(buf, mv, pos):
        run = None
        for i in range(0, len(mv), bs):
            j = min(i + bs, len(mv))
            if all_zero(mv[i:j]):
                if run is not None:
                    write_all(fd, mv[run:i], off + pos + run)
                    run = None
            elif run is None:
                run = i
        if run is not None:
            write_all(fd, mv[run:], off + pos + run)
    return sink


def whole(length):
    """The segment in CHUNK-sized pieces: every byte, as (position in the segment, length)."""
    pos = 0
    while pos < length:
        n = min(CHUNK, length - pos)
        yield pos, n
        pos += n


def data_chunks(fd, off, length, chunk):
    """The chunks that hold data, found as lib/extents.sh's read_extents finds them (SEEK_DATA and
    SEEK_HOLE; a file system without them is read whole), as (position in the segment, length)."""
    end = off + length
    p = off
    mapped = True
    while p < end:
        d = p
        if mapped:
            try:
                d = os.lseek(fd, p, os.SEEK_DATA)
            except OSError as e:
                if e.errno == errno.ENXIO:
                    return
                if e.errno != errno.EINVAL:
                    raise
                mapped = False
                d = p
        if d >= end:
            return
        hole = end
        if mapped:
            try:
                hole = min(os.lseek(fd, d, os.SEEK_HOLE), end)
            except OSError:
                pass
        q = off + (d - off) // chunk * chunk
        while q < hole:
            n = min(chunk, end - q)
            yield q - off, n
            q += n
        p = q


def listed_chunks(off, length, chunk, text):
    """The chunks that hold data by a map the caller made (thinMap.py: `OFF LEN` byte ranges, one
    a line, in order), clipped to the segment, as (position in the segment, length)."""
    end = off + length
    last = None
    for line in text.split("\n"):
        if not line.strip():
            continue
        a, n = (int(x) for x in line.split())
        b = min(a + n, end)
        q = off + (max(a, off) - off) // chunk * chunk
        while q < b:
            if last is None or q > last:
                yield q - off, min(chunk, end - q)
                last = q
            q += chunk


def map_text():
    """The map on stdin: its lines up to an `end` line or EOF. A paced copy's limit lines follow
    the `end` on the same stdin (sys.stdin's buffer keeps them for Pace's listener)."""
    lines = []
    for line in sys.stdin:
        if line.strip() == "end":
            break
        lines.append(line)
    return "".join(lines)


def data_layout(fd, off, length, args):
    """The pieces of a segment for args: [] every byte; [CHUNK] the data chunks lseek finds;
    [CHUNK, "stdin"] the chunks of the map on stdin. And the extents offset for pump."""
    if not args:
        return whole(length), None
    if args[1:2] == ["stdin"]:
        return listed_chunks(off, length, int(args[0]), map_text()), off
    return data_chunks(fd, off, length, int(args[0])), off
