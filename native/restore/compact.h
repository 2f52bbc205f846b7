/* stasis-restore --compact IMAGE OUT (compact.c). */
#ifndef STASIS_COMPACT_H
#define STASIS_COMPACT_H
/* a self-contained copy of IMAGE (its chain of parents resolved) at OUT, created
 * exclusively; 0, or 1 after one line "stasis: image NAME: what is wrong" */
int compact_image(const char *image, const char *out);
#endif
