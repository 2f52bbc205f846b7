/* Phase 2 of the restorer: the old address space goes, the image's comes, the
 * restored agent is entered. A freestanding unit (-ffreestanding, no libc: `make
 * check` fails when it references a symbol outside the allow-list restore/phase2.allow):
 * raw system calls, the helpers of native/lib/ and what phase 1 hands over in struct
 * phase2_input. Runs on a stack inside the restorer's bss. */
#include "phase2.h"
#include "stasis/rawio.h"
#include "stasis/rawsys.h"
#include <asm/prctl.h>
#include <linux/falloc.h>
#include <linux/prctl.h>
#include <sys/mman.h>

#define MREMAP_MAYMOVE  1
#define MREMAP_FIXED    2
#define SCRATCH_SPECIAL (STASIS_RESTORER_SCRATCH + 0x30000000ull)

static char g_stack[1 << 18] __attribute__((aligned(64)));
static char g_maps[1 << 18];
static struct phase2_input g_in;
static struct stasis_restart_args g_args;
static struct {
    uint64_t start, end;
    char name[16];
} g_cur[8];
static int g_ncur;

/* the output routine of phase 2: one line to the supervisor's report channel (fd 2
 * if none: by now fd 2 may be the program's) */
static void say(const char *what, const char *msg, long err)
{
    char buf[256], *e = r_stpcpy(buf, "stasis-restore: ");
    e = r_stpcpy(e, what);
    e = r_stpcpy(e, msg);
    if (err) {
        e = r_stpcpy(e, " (errno ");
        e = r_itoa(e, -err);
        e = r_stpcpy(e, ")");
    }
    e = r_stpcpy(e, "\n");
    rsys3(SYS_write, g_args.report_fd >= 0 ? g_args.report_fd : 2, buf, (size_t)(e - buf));
}

static void __attribute__((noreturn)) die(const char *msg, long err)
{
    say("", msg, err);
    rsys1(SYS_exit_group, 1);
    __builtin_unreachable();
}

/* kept: the restorer's ELF image and its scratch range (its brk heap, stack and
 * TLS go: phase 2 uses neither libc nor TLS) */
static int in_restorer(uint64_t s, uint64_t e)
{
    return (s >= g_args.restorer_start && e <= g_args.restorer_end) ||
           (s >= STASIS_RESTORER_SCRATCH && e <= STASIS_RESTORER_SCRATCH_END) ||
           (g_in.zbuf && s >= g_in.zbuf && e <= g_in.zbuf + g_in.zbuf_len);
}

/* unmap every mapping except the restorer's range and the kernel's specials */
static void unmap_foreign(void)
{
    size_t len;
    if (r_read_file("/proc/self/maps", g_maps, sizeof g_maps, &len) < 0) die("cannot read /proc/self/maps", 0);
    for (char *line = g_maps; *line;) {
        const char *p = line;
        uint64_t s = r_parse_hex(&p);
        p++;
        uint64_t e = r_parse_hex(&p);
        const char *name = p;
        while (*name && *name != '\n' && *name != '[' && *name != '/') name++;
        char *nl = line;
        while (*nl && *nl != '\n') nl++;
        int special = *name == '[' && (r_startswith(name, "[vdso]") || r_startswith(name, "[vvar"));
        if (special && g_ncur < 8) {
            g_cur[g_ncur].start = s;
            g_cur[g_ncur].end = e;
            int i = 0;
            while (i < 15 && name[i] && name[i] != '\n') {
                g_cur[g_ncur].name[i] = name[i];
                i++;
            }
            g_cur[g_ncur].name[i] = 0;
            g_ncur++;
        } else if (!in_restorer(s, e) && !r_startswith(name, "[vsyscall]")) {
            long r = rsys2(SYS_munmap, s, e - s);
            if (r < 0) die("munmap failed", r);
        }
        line = *nl ? nl + 1 : nl;
    }
}

/* move vdso/vvar to their saved addresses, keeping their relative layout */
static void move_specials(void)
{
    const struct stasis_img_proc *pr = &g_in.hdr->proc;
    uint64_t off = 0;
    for (int i = 0; i < g_ncur; i++) { /* step 1: out of the way */
        uint64_t len = g_cur[i].end - g_cur[i].start;
        const struct stasis_img_special *sv = 0;
        for (uint32_t j = 0; j < pr->n_special; j++)
            if (r_streq(pr->special[j].name, g_cur[i].name)) sv = &pr->special[j];
        if (!sv) die("the saved image has no record of a kernel special mapping (different kernel?)", 0);
        if (sv->end - sv->start != len) die("vdso/vvar size differs from the checkpointed kernel", 0);
        long r = rsys5(SYS_mremap, g_cur[i].start, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, SCRATCH_SPECIAL + off);
        if (r < 0) die("mremap of vdso/vvar failed", r);
        g_cur[i].start = SCRATCH_SPECIAL + off;
        g_cur[i].end = g_cur[i].start + len;
        off += len + 0x100000;
    }
    for (int i = 0; i < g_ncur; i++) { /* step 2: to the saved addresses */
        for (uint32_t j = 0; j < pr->n_special; j++) {
            if (!r_streq(pr->special[j].name, g_cur[i].name)) continue;
            uint64_t len = g_cur[i].end - g_cur[i].start;
            long r = rsys5(SYS_mremap, g_cur[i].start, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, pr->special[j].start);
            if (r < 0) die("mremap of vdso/vvar to its saved address failed", r);
        }
    }
}

static void map_or_die(uint64_t addr, uint64_t len, int prot, int flags, long fd, uint64_t off)
{
    long r = rsys6(SYS_mmap, (long)addr, (long)len, prot, flags | MAP_FIXED, fd, (long)off);
    if (r < 0) die("mmap of a saved area failed", r);
}

/* the file and offset of a run (chain.c: level 0 = the image, n = its n-th parent) */
static int run_fd(const struct stasis_img_run *run)
{
    int level = (int)((run->file_offset >> 56) & 0x7f);
    return level ? g_in.chain_fd[level - 1] : g_in.image_fd;
}

static uint64_t run_off(const struct stasis_img_run *run) { return run->file_offset & ((1ull << 56) - 1); }

/* a run copied out of a decompressed image: its pages there are not needed again (every
 * address comes from one run), so memory holds the restored copy only, not both */
static void release_run(const struct stasis_img_run *run)
{
    int level = (int)((run->file_offset >> 56) & 0x7f);
    if (g_in.inflated & (1ull << level))
        rsys4(SYS_fallocate, run_fd(run), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, run_off(run), run->len);
}

/* a run of the image itself (level 0) when it was decompressed into anonymous memory */
static int in_zbuf(const struct stasis_img_run *run) { return g_in.zbuf && !((run->file_offset >> 56) & 0x7f); }

static void copy_bytes(uint64_t dst, uint64_t src, uint64_t len)
{
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(len) : : "memory");
}

/* Large runs are moved out of the decompressed memory (mremap: its pages become the
 * program's, no copy, no second allocation); each one moved is a mapping of its own, so
 * only large runs, and a bounded number of them (vm.max_map_count, and the areas of the
 * next checkpoint); the rest is copied. */
#define MOVE_MIN (2ull << 20)
static int g_moves_left = 512;

static void take_run(const struct stasis_img_run *run)
{
    uint64_t src = g_in.zbuf + (run_off(run) - g_in.zbuf_base);
    if (run->len >= MOVE_MIN && g_moves_left > 0 &&
        rsys5(SYS_mremap, src, run->len, run->len, MREMAP_MAYMOVE | MREMAP_FIXED, run->addr) == (long)run->addr) {
        g_moves_left--;
        return;
    }
    copy_bytes(run->addr, src, run->len);
}

static void map_shared_file(const struct stasis_img_area *a)
{
    int fd = g_in.area_fd[a - g_in.areas];
    map_or_die(a->start, a->end - a->start, (int)a->prot, MAP_SHARED, fd, a->pgoff);
    rsys1(SYS_close, fd);
}

/* a view of a shared memory object (its data is already in it: shm.c), or a
 * private copy of the saved data */
static void map_shared_anon(const struct stasis_img_area *a)
{
    int fd = g_in.area_fd[a - g_in.areas];
    if (fd >= 0) {
        map_or_die(a->start, a->end - a->start, (int)a->prot, MAP_SHARED, fd, a->pgoff);
        return;
    }
    map_or_die(a->start, a->end - a->start, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    for (uint32_t r = a->run_first; r < a->run_first + a->run_count; r++) {
        const struct stasis_img_run *run = &g_in.runs[r];
        if (in_zbuf(run)) {
            copy_bytes(run->addr, g_in.zbuf + (run_off(run) - g_in.zbuf_base), run->len);
            continue;
        }
        long n = rsys4(SYS_pread64, run_fd(run), run->addr, run->len, run_off(run));
        if (n != (long)run->len) die("cannot read shared memory data from the image", n < 0 ? n : 0);
        release_run(run);
    }
    rsys3(SYS_mprotect, a->start, a->end - a->start, a->prot);
}

/* the kernel reads /proc/PID/cmdline and environ from anonymous memory only
 * (FOLL_ANON): the area holding them (the initial stack) is copied, never a view of
 * the image */
static int holds_args(const struct stasis_img_area *a)
{
    const struct stasis_img_mm *m = &g_in.hdr->proc.mm;
    return (a->flags & STASIS_AF_STACK) || (m->arg_start >= a->start && m->arg_start < a->end) ||
           (m->env_end > a->start && m->env_end <= a->end);
}

/* copy mode: plain anonymous memory filled with pread (MADV_DONTNEED zeroes it, as
 * the program may expect); lazy mode: image pages mapped MAP_PRIVATE, faulted in on
 * first touch (MADV_DONTNEED would bring back the image content). The anonymous
 * mapping under the stored pages is MAP_NORESERVE: the area may be a huge reservation
 * (2 TiB for some allocators, sanitizers, runtimes) of which only the stored pages
 * matter; it was committed when the program made it, a restart must not fail on it. */
static void map_private(const struct stasis_img_area *a)
{
    int prot = (int)a->prot;
    /* many small runs would cost one VMA each (vm.max_map_count): read those */
    int fragmented = a->run_count > 64 && a->data_bytes / a->run_count < 65536;
    if (g_in.copy || fragmented || holds_args(a)) {
        map_or_die(a->start, a->end - a->start, prot | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        for (uint32_t r = a->run_first; r < a->run_first + a->run_count; r++) {
            const struct stasis_img_run *run = &g_in.runs[r];
            if (in_zbuf(run)) {
                take_run(run);
                continue;
            }
            for (uint64_t done = 0; done < run->len;) {
                long n = rsys4(SYS_pread64, run_fd(run), run->addr + done, run->len - done, run_off(run) + done);
                if (n <= 0) die("cannot read page data from the image", n);
                done += (uint64_t)n;
            }
            release_run(run);
        }
        /* moved pages came read-write */
        if (!(prot & PROT_WRITE) || g_in.zbuf) rsys3(SYS_mprotect, a->start, a->end - a->start, prot);
        return;
    }
    int whole = a->run_count == 1 && g_in.runs[a->run_first].addr == a->start &&
                g_in.runs[a->run_first].len == a->end - a->start;
    if (!whole) map_or_die(a->start, a->end - a->start, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    for (uint32_t r = a->run_first; r < a->run_first + a->run_count; r++) {
        const struct stasis_img_run *run = &g_in.runs[r];
        map_or_die(run->addr, run->len, prot, MAP_PRIVATE, run_fd(run), run_off(run));
    }
}

/* the saved [stack] has its checkpoint-time size: give it room to grow again below
 * (up to RLIMIT_STACK, at most 256 MiB), where nothing else is mapped */
static void extend_stack(const struct stasis_img_area *a)
{
    uint64_t lim = g_in.hdr->proc.rlim[3].cur, size = a->end - a->start;
    if (lim > (256ull << 20)) lim = 256ull << 20;
    if (lim <= size + 65536 || a->start < lim) return;
    uint64_t ext = (lim - size) & ~4095ull;
    rsys6(SYS_mmap, (long)(a->start - ext), (long)ext, (long)a->prot,
          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
}

static void map_areas(void)
{
    for (uint32_t i = 0; i < g_in.hdr->n_areas; i++) {
        const struct stasis_img_area *a = &g_in.areas[i];
        switch (a->kind) {
        case STASIS_AREA_VDSO: break;
        case STASIS_AREA_FILE_SHARED: map_shared_file(a); break;
        case STASIS_AREA_SHARED_ANON: map_shared_anon(a); break;
        default:
            map_private(a);
            if (a->flags & STASIS_AF_STACK) extend_stack(a);
            break;
        }
    }
}

static void restore_mm(void)
{
    const struct stasis_img_proc *pr = &g_in.hdr->proc;
    struct prctl_mm_map m;
    r_memset(&m, 0, sizeof m);
    m.start_code = pr->mm.start_code;
    m.end_code = pr->mm.end_code;
    m.start_data = pr->mm.start_data;
    m.end_data = pr->mm.end_data;
    m.start_brk = pr->mm.start_brk;
    m.brk = pr->mm.brk;
    m.start_stack = pr->mm.start_stack;
    m.arg_start = pr->mm.arg_start;
    m.arg_end = pr->mm.arg_end;
    m.env_start = pr->mm.env_start;
    m.env_end = pr->mm.env_end;
    m.auxv = (__u64 *)(uintptr_t)pr->auxv;
    m.auxv_size = pr->auxv_words * 8;
    m.exe_fd = (uint32_t)-1;
    long r = rsys5(SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, &m, sizeof m, 0);
    if (r < 0) say("warning: ", "PR_SET_MM_MAP failed; brk not restored", 0);
}

static void restore_sigactions(void)
{
    const struct stasis_img_proc *pr = &g_in.hdr->proc;
    for (int s = 1; s <= STASIS_IMG_NSIG; s++) {
        if (s == 9 || s == 19) continue;
        rsys4(SYS_rt_sigaction, s, &pr->sigact[s - 1], NULL, 8);
    }
}

static void __attribute__((noreturn)) phase2(void)
{
    unmap_foreign();
    move_specials();
    map_areas();
    if (g_in.zbuf) rsys2(SYS_munmap, g_in.zbuf, g_in.zbuf_len);
    for (int i = 0; i < g_in.n_close; i++)
        if (g_in.close_fds[i] >= 0) rsys1(SYS_close, g_in.close_fds[i]);
    restore_mm();
    restore_sigactions();
    for (int i = 0; i < g_in.n_chain; i++) rsys1(SYS_close, g_in.chain_fd[i]);
    rsys1(SYS_close, g_in.image_fd);
    const struct stasis_img_proc *pr = &g_in.hdr->proc;
    uint64_t entry = pr->entry, stack = pr->entry_stack & ~15ull;
    rsys2(SYS_arch_prctl, ARCH_SET_FS, pr->main_fsbase);
    __asm__ volatile("mov %0, %%rsp\n\t"
                     "call *%%rax\n\t"
                     "ud2" ::"r"(stack),
                     "D"(&g_args), "a"(entry)
                     : "memory");
    __builtin_unreachable();
}

void phase2_start(const struct phase2_input *in)
{
    r_memcpy(&g_in, in, sizeof g_in);
    r_memcpy(&g_args, &in->args, sizeof g_args);
    uint64_t top = ((uint64_t)(uintptr_t)g_stack + sizeof g_stack - 64) & ~15ull;
    __asm__ volatile("mov %0, %%rsp\n\t"
                     "call *%%rax\n\t"
                     "ud2" ::"r"(top),
                     "a"(phase2)
                     : "memory");
    __builtin_unreachable();
}
