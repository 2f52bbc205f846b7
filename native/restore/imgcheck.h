/* Loading and validating a memory image before anything is touched. */
#ifndef STASIS_IMGCHECK_H
#define STASIS_IMGCHECK_H
#include "stasis/image.h"

struct loaded_image {
    int fd;
    struct stasis_img_header *hdr; /* in the restorer's scratch region */
    struct stasis_img_area *areas;
    struct stasis_img_run *runs;
    const char *names;
    /* compressed images (inflate.c): the frame table and each frame's CRC32C of what it
     * decompressed to, which verify.c joins per area instead of reading the data again */
    const struct stasis_img_frame *frames;
    const uint32_t *frame_crc;
    uint32_t n_frames;
    /* decompressed into anonymous memory (inflate.c, g_inflate_anon) rather than a
     * memfd: the raw data from data_offset on, which phase 2 moves into place */
    char *zbuf;
    uint64_t zbuf_len;
};
extern struct loaded_image g_img;
/* the page data the runs name: what is stored, or (compressed) what it decompresses to */
static inline uint64_t image_raw_bytes(const struct stasis_img_header *h)
{
    return h->proc.compress.algo ? h->proc.compress.raw_bytes : h->data_bytes;
}
/* the restorer's own ELF image, page aligned (from linker symbols) */
uint64_t restorer_image_start(void);
uint64_t restorer_image_end(void);
/* after image_load: check every area's CRC32C (reads all page data); -1 + message */
int image_verify_data(const char *path);
/* open (beneath its directory, no symlinks, regular files only) + validate every
 * rule of doc/image-format.md ("Validation"); on error prints one line
 * "stasis: image NAME: what is wrong" and returns -1 */
int image_load(const char *path);
/* image_load with another name in its messages, tables at g_img_scratch_off */
int image_load_named(const char *path, const char *name);
extern uint64_t g_img_scratch_off;
/* verify.c: image_verify_data with another name in its messages */
int image_verify_named(const char *name);
/* image_load for `stasis-restore --check IMAGE` (and `stasis verify`): no warnings */
int image_check_only(const char *path);
#endif
