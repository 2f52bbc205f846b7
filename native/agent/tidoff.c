/* Where glibc caches a thread's tid in its thread descriptor (struct pthread, at the
 * fs base): offsets holding gettid() in two different threads. Used to patch the
 * cached tids when a restart cannot keep the original tids. */
#include "agent.h"
#include <pthread.h>
#include <string.h>

/* offsets (4-aligned, inside the thread descriptor) holding this thread's tid */
static void tid_candidates(unsigned char *cand, size_t n)
{
    uint64_t fs = (uint64_t)(uintptr_t)pthread_self();
    int tid = (int)r_gettid();
    for (size_t off = 0; off < n * 4; off += 4)
        if (*(int *)(uintptr_t)(fs + off) != tid) cand[off / 4] = 0;
}

static unsigned char g_cand[256]; /* 1 KiB: within glibc's struct pthread */

static void *probe_thread(void *arg)
{
    (void)arg;
    tid_candidates(g_cand, sizeof g_cand);
    return NULL;
}

void stasis_find_tid_offset(void)
{
    memset(g_cand, 1, sizeof g_cand);
    tid_candidates(g_cand, sizeof g_cand);
    pthread_t t;
    if (pthread_create(&t, NULL, probe_thread, NULL) != 0) return;
    pthread_join(t, NULL);
    for (size_t i = 0; i < sizeof g_cand; i++)
        if (g_cand[i]) {
            g_tid_off = (int)(i * 4);
            return;
        }
}
