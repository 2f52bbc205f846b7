/* Incremental images: the chain of parent images (chain.c). */
#ifndef STASIS_CHAIN_H
#define STASIS_CHAIN_H
#include "imgcheck.h"

#define CHAIN_MAX         32 /* parents per image (scratch slots) */
#define CHAIN_LEVEL_SHIFT 56 /* resolved runs: file_offset | level << 56 (0 = the image itself) */

struct chain {
    int n;                              /* parents loaded */
    int fd[CHAIN_MAX];                  /* level n+1's image file */
    struct loaded_image img[CHAIN_MAX]; /* their headers and tables (scratch) */
};
extern struct chain g_chain;

/* after image_load (g_img = the image): load and check its parents (their page
 * checksums too if verify); resolve_runs: rewrite g_img's runs to name their file's
 * level. 0, or -1 after one line "stasis: image NAME: what is wrong" */
int chain_open(const char *image, int verify, int resolve_runs);
void chain_close(void);
#endif
