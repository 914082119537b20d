/*
 * LD_PRELOAD shim for the UML kernel process (Debian's user-mode-linux 6.1): its
 * PTRACE_GETREGSET / PTRACE_SETREGSET of NT_X86_XSTATE get the host's full XSAVE size.
 *
 * Why: UML keeps a fixed-size copy of each guest process's XSAVE area. The host kernel accepts
 * SETREGSET of NT_X86_XSTATE only with the full size, which on CPUs with AMX (about 11 KB) is
 * more than UML's copy, so the guest's init dies at once:
 *     userspace - ptrace set fp regs failed, errno = 14
 *     Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b
 * (Refusing GETREGSET so that UML falls back to the FXSAVE area is no way out: UML then loses the
 * vector registers at every page fault of a guest process and memcpy goes wrong.)
 *
 * How: GETREGSET reads the full area into a per-pid copy and hands UML its first part;
 * SETREGSET lays UML's part over that pid's full copy and writes the whole. For every other
 * request, and where the sizes already agree, this is a plain pass-through.
 * Build: cc -O2 -shared -fPIC -o uml-xstate-shim.so uml-xstate-shim.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

#define NT_X86_XSTATE_ 0x202
#define MAX_XSTATE (64 * 1024) /* more than any x86 XSAVE area */
#define ENTRIES 4096
#define PROBE 32

struct entry {
  pid_t pid; /* 0: free */
  uint64_t used;
  unsigned char *buf;
};

typedef long (*ptrace_fn)(enum __ptrace_request, ...);
static ptrace_fn real_ptrace;
static struct entry table[ENTRIES];
static uint64_t clock_;
static size_t full_size; /* the host's XSAVE size, learnt from the first GETREGSET */
static unsigned char scratch[MAX_XSTATE];

/* The entry of PID, else a free one in its probe window, else the least recently used (reset). */
static struct entry *entry_for(pid_t pid) {
  unsigned h = ((unsigned)pid * 2654435761u) % ENTRIES;
  struct entry *free_entry = NULL, *lru = NULL;
  for (unsigned i = 0; i < PROBE; i++) {
    struct entry *e = &table[(h + i) % ENTRIES];
    if (e->pid == pid) {
      e->used = ++clock_;
      return e;
    }
    if (e->pid == 0 && !free_entry) free_entry = e;
    if (!lru || e->used < lru->used) lru = e;
  }
  struct entry *e = free_entry ? free_entry : lru;
  if (!e->buf) {
    void *p = mmap(NULL, full_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    e->buf = p;
  }
  e->pid = 0; /* no valid copy yet */
  e->used = ++clock_;
  return e;
}

static long get_full(pid_t pid, struct entry *e) {
  struct iovec iov = {e->buf, full_size};
  long r = real_ptrace(PTRACE_GETREGSET, pid, (void *)(long)NT_X86_XSTATE_, &iov);
  if (r == 0) e->pid = pid;
  return r;
}

long ptrace(enum __ptrace_request request, ...) {
  va_list ap;
  va_start(ap, request);
  pid_t pid = va_arg(ap, pid_t);
  void *addr = va_arg(ap, void *);
  void *data = va_arg(ap, void *);
  va_end(ap);
  if (!real_ptrace) real_ptrace = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
  if ((request != PTRACE_GETREGSET && request != PTRACE_SETREGSET) || (long)addr != NT_X86_XSTATE_)
    return real_ptrace(request, pid, addr, data);

  struct iovec *uml = data;
  if (!full_size) {
    struct iovec iov = {scratch, sizeof scratch};
    long r = real_ptrace(PTRACE_GETREGSET, pid, addr, &iov);
    if (r != 0) return r;
    full_size = iov.iov_len;
  }
  if (uml->iov_len >= full_size) return real_ptrace(request, pid, addr, data);

  struct entry *e = entry_for(pid);
  if (!e) return real_ptrace(request, pid, addr, data);
  if (request == PTRACE_GETREGSET || e->pid != pid) {
    long r = get_full(pid, e);
    if (r != 0) return r;
  }
  if (request == PTRACE_GETREGSET) {
    memcpy(uml->iov_base, e->buf, uml->iov_len);
    return 0;
  }
  memcpy(e->buf, uml->iov_base, uml->iov_len);
  struct iovec full = {e->buf, full_size};
  return real_ptrace(PTRACE_SETREGSET, pid, addr, &full);
}
