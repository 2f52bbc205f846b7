/* The restorer's phase 2 (phase2.c): what phase 1 hands over. */
#ifndef STASIS_PHASE2_H
#define STASIS_PHASE2_H
#include "stasis/image.h"
#include "stasis/restart.h"

struct phase2_input {
    int image_fd;
    int copy; /* 1: read page data instead of mapping it */
    struct stasis_restart_args args;
    const struct stasis_img_header *hdr; /* the image's tables, in the scratch region */
    const struct stasis_img_area *areas;
    const struct stasis_img_run *runs;
    const int *area_fd;   /* per area: its shared file/object fd, or -1 */
    const int *close_fds; /* closed once mapped (shared memory objects) */
    int n_close;
    const int *chain_fd; /* parent images: run level n (file_offset bits 56..62) is chain_fd[n-1] */
    int n_chain;
    uint64_t inflated; /* bit n: level n's file is a decompressed image (inflate.c, a memfd):
                        * each run's pages are freed from it once copied */
    /* the image decompressed into anonymous memory (inflate.c, zbuf): its raw data
     * from raw offset zbuf_base on; level-0 runs are moved out of it (mremap) or copied,
     * the rest is unmapped once the areas are in place */
    uint64_t zbuf, zbuf_len, zbuf_base;
};

/* switch to phase 2's own stack, replace the address space, enter the restored agent;
 * exits 1 with one line on failure */
void phase2_start(const struct phase2_input *in) __attribute__((noreturn));
#endif
