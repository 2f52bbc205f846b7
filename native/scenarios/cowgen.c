/* Scenario: a thread rewrites a large buffer without pause while it is checkpointed
 * (copy-on-write snapshots, SNAPSHOT in doc/agent-protocol.md).
 *
 *   cowgen gen MIB          a writer thread stores its generation in every word of a
 *                           MIB buffer, pass after pass; prints "cowgen <mib>" first,
 *                           then "pass <n>" every 64 passes
 *   cowgen dontfork MIB     the same, and a 1 MiB area with MADV_DONTFORK given by a raw
 *                           system call (the agent sees no madvise call), filled with a
 *                           pattern checked after each restart
 *
 * The writer's own progress (generation, words done in this pass) lives in memory too:
 * an image taken at one instant holds buf[0..done) == gen and buf[done..] == gen - 1
 * (buf[done] may already be gen). A writer restored from a mix of instants finds it
 * otherwise. After each restart the writer checks the whole buffer and prints
 * "CHECK <restarts> gen <gen> done <done>" or "FAIL ..."; it ends when SC_STOP_FILE
 * exists ("OK <passes>"). */
#include "common.h"
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static volatile uint64_t *g_buf;
static size_t g_words;
static volatile uint64_t g_gen = 1, g_done;
static unsigned char *g_dontfork;

static void check_after_restart(int restarts)
{
    uint64_t gen = g_gen, done = g_done;
    for (size_t i = 0; i < g_words; i++) {
        uint64_t want = i < done ? gen : gen - 1;
        if (g_buf[i] == want || (i == done && g_buf[i] == gen)) continue;
        printf("FAIL word %zu holds %lu, generation %lu done %lu: not one instant\n", i, (unsigned long)g_buf[i],
               (unsigned long)gen, (unsigned long)done);
        fflush(stdout);
        exit(1);
    }
    for (size_t i = 0; g_dontfork && i < (1u << 20); i++)
        if (g_dontfork[i] != (unsigned char)(i * 7 + 3)) sc_fail("the MADV_DONTFORK area lost its contents");
    printf("CHECK %d gen %lu done %lu\n", restarts, (unsigned long)gen, (unsigned long)done);
    fflush(stdout);
}

static void *writer(void *arg)
{
    (void)arg;
    int seen = sc_restarts();
    for (uint64_t pass = 1;; pass++) {
        for (size_t i = 0; i < g_words; i++) {
            g_buf[i] = g_gen;
            g_done = i + 1;
            if ((i & 4095) == 0 && sc_restarts() != seen) {
                seen = sc_restarts();
                check_after_restart(seen);
            }
        }
        g_done = 0;
        g_gen++;
        if (pass % 64 == 0) {
            printf("pass %lu\n", (unsigned long)pass);
            fflush(stdout);
        }
        if (sc_stop_requested()) {
            printf("OK %lu\n", (unsigned long)pass);
            fflush(stdout);
            exit(0);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) sc_fail("usage: cowgen gen|dontfork MIB");
    size_t mib = strtoul(argv[2], NULL, 10);
    g_words = (mib << 20) / 8;
    g_buf = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g_buf == MAP_FAILED) sc_fail("mmap");
    if (!strcmp(argv[1], "dontfork")) {
        g_dontfork = mmap(NULL, 1u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (g_dontfork == MAP_FAILED) sc_fail("mmap");
        for (size_t i = 0; i < (1u << 20); i++) g_dontfork[i] = (unsigned char)(i * 7 + 3);
        if (syscall(SYS_madvise, g_dontfork, 1u << 20, MADV_DONTFORK) != 0) sc_fail("madvise");
    } else if (strcmp(argv[1], "gen")) sc_fail("usage: cowgen gen|dontfork MIB");
    printf("cowgen %zu\n", mib);
    fflush(stdout);
    pthread_t t;
    if (pthread_create(&t, NULL, writer, NULL)) sc_fail("pthread_create");
    pthread_join(t, NULL);
    return 0;
}
