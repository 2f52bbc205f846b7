/* Process state kept in the agent's memory (so in the image) and applied again by the
 * restored agent: madvise advice per memory area (VmFlags of /proc/self/smaps: dc
 * MADV_DONTFORK, wf MADV_WIPEONFORK, hg/nh MADV_[NO]HUGEPAGE, dd MADV_DONTDUMP, mg
 * MADV_MERGEABLE) and PR_SET_CHILD_SUBREAPER. Raw syscalls and static buffers: the
 * checkpoint side runs while the program is parked, the restart side before it runs.
 * Reading smaps costs a page table walk (measured 17-20 ms per GiB resident, over
 * 0.5 s on a loaded machine), so
 * it is read only once the program has given such advice through madvise (interposed
 * here; a raw madvise system call is not seen). */
#include "agent.h"
#include "stasis/rawsys.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#define KM_MAX   4096
#define KM_CHUNK 65536

enum { KM_DC = 1, KM_WF = 2, KM_HG = 4, KM_NH = 8, KM_DD = 16, KM_MG = 32 };
static const struct {
    char name[3];
    int bit, advice;
} g_adv[] = {
        {"dc", KM_DC, MADV_DONTFORK},   {"wf", KM_WF, MADV_WIPEONFORK}, {"hg", KM_HG, MADV_HUGEPAGE},
        {"nh", KM_NH, MADV_NOHUGEPAGE}, {"dd", KM_DD, MADV_DONTDUMP},   {"mg", KM_MG, MADV_MERGEABLE},
};
#define NADV ((int)ARRAY_SIZE(g_adv))

struct km_area {
    uint64_t start, end;
    uint32_t prot, advice;
};
static struct km_area g_km[KM_MAX];
static int g_nkm;
static int g_subreaper;
static char g_smaps[KM_CHUNK + 1];
static int g_advised; /* inherited over fork, kept in the image: advice stays */

static int km_is_flag_advice(int advice)
{
    switch (advice) {
    case MADV_DONTFORK:
    case MADV_DOFORK:
    case MADV_WIPEONFORK:
    case MADV_KEEPONFORK:
    case MADV_HUGEPAGE:
    case MADV_NOHUGEPAGE:
    case MADV_DONTDUMP:
    case MADV_DODUMP:
    case MADV_MERGEABLE:
    case MADV_UNMERGEABLE: return 1;
    default: return 0;
    }
}

__attribute__((visibility("default"))) int madvise(void *addr, size_t len, int advice)
{
    if (km_is_flag_advice(advice)) __atomic_store_n(&g_advised, 1, __ATOMIC_RELAXED);
    long r = rsys3(SYS_madvise, addr, len, advice);
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return 0;
}

struct km_parse {
    uint64_t start, end;
    uint32_t prot;
    int special;
};

static void km_header(const char *p, struct km_parse *cur)
{
    cur->start = r_parse_hex(&p);
    p++;
    cur->end = r_parse_hex(&p);
    p++;
    cur->prot = (p[0] == 'r' ? PROT_READ : 0) | (p[1] == 'w' ? PROT_WRITE : 0) | (p[2] == 'x' ? PROT_EXEC : 0);
    for (int f = 0; f < 4 && *p && *p != '\n'; f++) { /* perms, offset, dev, inode */
        while (*p && *p != ' ' && *p != '\n') p++;
        while (*p == ' ') p++;
    }
    cur->special = *p == '[' && !r_startswith(p, "[heap]") && !r_startswith(p, "[stack]");
}

static int km_flags(const char *p, const struct km_parse *cur)
{
    uint32_t adv = 0;
    for (p += 8; *p && *p != '\n'; p++) {
        if (*p == ' ') continue;
        for (int i = 0; i < NADV; i++)
            if (p[0] == g_adv[i].name[0] && p[1] == g_adv[i].name[1]) adv |= (uint32_t)g_adv[i].bit;
        while (*p && *p != ' ' && *p != '\n') p++;
        if (!*p || *p == '\n') break;
    }
    if (!adv || cur->special) return 0;
    if (g_nkm >= KM_MAX) return -1;
    g_km[g_nkm++] = (struct km_area){cur->start, cur->end, cur->prot, adv};
    return 0;
}

static int km_line(const char *p, struct km_parse *cur)
{
    if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')) {
        const char *q = p;
        while ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f')) q++;
        if (*q == '-') {
            km_header(p, cur);
            return 0;
        }
    }
    return r_startswith(p, "VmFlags:") ? km_flags(p, cur) : 0;
}

/* /proc/self/smaps is large (about 1 KiB per area): read it in chunks, whole lines */
int stasis_kmisc_save(const char **err)
{
    g_nkm = 0;
    g_subreaper = 0;
    rsys2(SYS_prctl, PR_GET_CHILD_SUBREAPER, &g_subreaper);
    if (!__atomic_load_n(&g_advised, __ATOMIC_RELAXED)) return 0;
    long fd = rsys3(SYS_open, "/proc/self/smaps", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
        *err = "cannot open /proc/self/smaps";
        return -1;
    }
    struct km_parse cur = {0, 0, 0, 1};
    size_t have = 0;
    int rc = 0;
    for (;;) {
        long n = rsys3(SYS_read, fd, g_smaps + have, KM_CHUNK - have);
        if (n == -EINTR) continue;
        if (n < 0) {
            *err = "cannot read /proc/self/smaps";
            rc = -1;
            break;
        }
        have += (size_t)n;
        g_smaps[have] = 0;
        size_t done = 0;
        for (size_t i = 0; i < have; i++) {
            if (g_smaps[i] != '\n' && !(n == 0 && i + 1 == have)) continue;
            if (km_line(g_smaps + done, &cur) < 0) {
                *err = "too many memory areas with madvise advice";
                rc = -1;
            }
            done = i + 1;
        }
        if (n == 0 || rc < 0) break;
        for (size_t i = done; i < have; i++) g_smaps[i - done] = g_smaps[i];
        have -= done;
        if (have == KM_CHUNK) {
            *err = "a line of /proc/self/smaps is too long";
            rc = -1;
            break;
        }
    }
    rsys1(SYS_close, fd);
    return rc;
}

static void km_die(const char *what, uint64_t addr, long err)
{
    static char buf[256];
    char *e = r_stpcpy(buf, what);
    e = r_stpcpy(e, " at 0x");
    e = r_xtoa(e, addr);
    e = r_stpcpy(e, " (errno ");
    e = r_itoa(e, -err);
    r_stpcpy(e, ")");
    stasis_restart_die(buf); /* to the restorer's report channel, like every restart error */
}

/* MADV_WIPEONFORK needs anonymous memory; a lazily restored area is a private view of
 * the image file: copy it into anonymous memory at the same place */
static void km_anonymize(const struct km_area *a)
{
    uint64_t len = a->end - a->start;
    long tmp = rsys6(SYS_mmap, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (tmp < 0) km_die("no memory to make an area anonymous for MADV_WIPEONFORK", a->start, tmp);
    if (!(a->prot & PROT_READ)) rsys3(SYS_mprotect, a->start, len, a->prot | PROT_READ);
    r_memcpy((void *)tmp, (void *)(uintptr_t)a->start, len);
    long r = rsys6(SYS_mmap, a->start, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (r < 0) km_die("cannot map anonymous memory for MADV_WIPEONFORK", a->start, r);
    r_memcpy((void *)(uintptr_t)a->start, (void *)tmp, len);
    rsys3(SYS_mprotect, a->start, len, a->prot);
    rsys2(SYS_munmap, tmp, len);
}

void stasis_kmisc_restore(void)
{
    if (g_subreaper) rsys2(SYS_prctl, PR_SET_CHILD_SUBREAPER, 1);
    for (int k = 0; k < g_nkm; k++) {
        const struct km_area *a = &g_km[k];
        for (int i = 0; i < NADV; i++) {
            if (!(a->advice & (uint32_t)g_adv[i].bit)) continue;
            long r = rsys3(SYS_madvise, a->start, a->end - a->start, g_adv[i].advice);
            if (r == -EINVAL && g_adv[i].bit == KM_WF) {
                km_anonymize(a);
                r = rsys3(SYS_madvise, a->start, a->end - a->start, g_adv[i].advice);
            }
            if (r < 0)
                km_die(g_adv[i].bit == KM_WF   ? "cannot restore MADV_WIPEONFORK"
                       : g_adv[i].bit == KM_DC ? "cannot restore MADV_DONTFORK"
                                               : "cannot restore madvise advice (hugepage, dontdump or mergeable)",
                       a->start, r);
        }
    }
}

/* after stasis_kmisc_save: a fork's copy of the memory would miss areas or read them as zero */
int stasis_kmisc_fork_unsafe(void)
{
    for (int k = 0; k < g_nkm; k++)
        if (g_km[k].advice & (KM_DC | KM_WF)) return 1;
    return 0;
}
