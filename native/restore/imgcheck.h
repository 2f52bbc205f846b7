/* Loading and validating a memory image before anything is touched. */
#ifndef STASIS_IMGCHECK_H
#define STASIS_IMGCHECK_H
#include "stasis/image.h"

struct loaded_image {
    int fd;
    struct stasis_img_header *hdr;   /* in the restorer's scratch region */
    struct stasis_img_area *areas;
    struct stasis_img_run *runs;
    const char *names;
};
extern struct loaded_image g_img;
/* the restorer's own ELF image, page aligned (from linker symbols) */
uint64_t restorer_image_start(void);
uint64_t restorer_image_end(void);
/* after image_load: check every area's CRC32C (reads all page data); -1 + message */
int image_verify_data(const char *path);
/* open + validate; on error prints one line and returns -1 */
int image_load(const char *path);
#endif
