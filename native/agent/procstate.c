/* Process-wide kernel state saved into the image header (restored by the restorer):
 * signal dispositions, rlimits, umask, personality, cwd, mm layout (brk etc.), auxv. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <time.h>
#include <errno.h>
#include <sys/personality.h>
#include "stasis/cpufeat.h"

static char g_statbuf[4096];
char g_exe[4096];

/* fields of /proc/self/stat, 1-based as in proc(5) */
static int parse_stat(uint64_t *field, int nfields)
{
    size_t len;
    if (r_read_file("/proc/self/stat", g_statbuf, sizeof g_statbuf, &len) < 0) return -1;
    const char *p = g_statbuf + len;
    while (p > g_statbuf && *p != ')') p--; /* comm may contain spaces */
    if (*p != ')') return -1;
    p += 2; /* now at field 3 (state) */
    for (int f = 3; f <= nfields && *p; f++) {
        if (*p == '-') {
            p++;
            r_parse_dec(&p);
            field[f] = 0;
        } else if (*p >= '0' && *p <= '9') field[f] = r_parse_dec(&p);
        else {
            field[f] = 0;
            p++;
        }
        while (*p == ' ') p++;
    }
    return 0;
}

static int save_mm(struct stasis_img_mm *mm)
{
    uint64_t f[53];
    r_memset(f, 0, sizeof f);
    if (parse_stat(f, 52) < 0) return -1;
    mm->start_code = f[26];
    mm->end_code = f[27];
    mm->start_stack = f[28];
    mm->start_data = f[45];
    mm->end_data = f[46];
    mm->start_brk = f[47];
    mm->arg_start = f[48];
    mm->arg_end = f[49];
    mm->env_start = f[50];
    mm->env_end = f[51];
    mm->brk = (uint64_t)rsys1(SYS_brk, 0);
    return 0;
}

static void save_auxv(struct stasis_img_proc *p)
{
    size_t len = 0;
    static char buf[sizeof p->auxv + 16];
    p->auxv_words = 0;
    if (r_read_file("/proc/self/auxv", buf, sizeof buf, &len) < 0) return;
    if (len > sizeof p->auxv) len = sizeof p->auxv;
    r_memcpy(p->auxv, buf, len);
    p->auxv_words = (uint32_t)(len / 8);
}

/* a deleted working directory: getcwd fails, /proc/self/cwd says "<path> (deleted)" */
static void save_cwd(struct stasis_img_proc *p)
{
    long r = rsys2(SYS_getcwd, p->cwd, sizeof p->cwd);
    if (r >= 0) return;
    p->cwd[0] = 0;
    if (r != -ENOENT) return;
    long n = rsys3(SYS_readlink, "/proc/self/cwd", p->cwd, sizeof p->cwd - 1);
    if (n <= 10 || !r_streq(p->cwd + n - 10, " (deleted)")) {
        p->cwd[0] = 0;
        return;
    }
    p->cwd[n - 10] = 0;
    p->kflags |= STASIS_PROC_CWD_DELETED;
}

int stasis_save_proc(struct stasis_img_header *h, const char **err)
{
    struct stasis_img_proc *p = &h->proc;
    for (int s = 1; s <= STASIS_IMG_NSIG; s++)
        if (s != 9 && s != 19) rsys4(SYS_rt_sigaction, s, NULL, &p->sigact[s - 1], KSIGSET_SIZE);
    for (int r = 0; r < STASIS_IMG_NRLIMIT; r++) rsys4(SYS_prlimit64, 0, r, NULL, &p->rlim[r]);
    long m = rsys1(SYS_umask, 022);
    rsys1(SYS_umask, m);
    p->umask = (uint32_t)m;
    p->personality = (uint32_t)rsys1(SYS_personality, 0xffffffffUL);
    save_cwd(p);
    if (save_mm(&p->mm) < 0) {
        *err = "cannot parse /proc/self/stat";
        return -1;
    }
    if (stasis_timers_save(err) < 0 || stasis_kmisc_save(err) < 0 || stasis_ksig_check(err) < 0) return -1;
    save_auxv(p);
    for (int w = 0; w < 3; w++) rsys2(SYS_getitimer, w, &p->itimer[w]);
    stasis_cpu_features(&p->xcr0, p->cpuid);
    rsys2(SYS_clock_gettime, CLOCK_MONOTONIC, p->monotonic);
    rsys2(SYS_clock_gettime, CLOCK_BOOTTIME, p->boottime);
    long n = rsys3(SYS_readlink, "/proc/self/exe", g_exe, sizeof g_exe - 1);
    g_exe[n > 0 ? n : 0] = 0;
    p->entry = (uint64_t)(uintptr_t)&stasis_restart_entry;
    p->entry_stack = ((uint64_t)(uintptr_t)stasis_restart_stack + stasis_restart_stack_size - 64) & ~15ull;
    p->main_fsbase = g_threads[0].fsbase;
    return 0;
}
