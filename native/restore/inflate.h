/* Compressed images: decompressed before anything is restored (inflate.c). */
#ifndef STASIS_INFLATE_H
#define STASIS_INFLATE_H
#include "imgcheck.h"

/* 1 once an image (or a parent) was decompressed in this process: phase 2 copies */
extern int g_img_inflated;
/* after the checks of image_load (g_img: a compressed image): every frame checked and
 * decompressed into a memfd that replaces g_img.fd; 0, or -1 after one line
 * "stasis: image NAME: what is wrong" */
int image_inflate(const char *name);
/* set before the image_load of the process being restored: its image is decompressed
 * into anonymous memory (g_img.zbuf) that phase 2 moves to the program's addresses with
 * mremap, instead of a memfd it copies from; cleared by that load (parents, checks and
 * --compact use a memfd). g_img.fd stays the image file, whose page data is compressed:
 * readers take the raw data from image_read. */
extern int g_inflate_anon;
/* len bytes of raw data at raw offset off (a level-0 run): from g_img.zbuf or g_img.fd */
int image_read(void *dst, uint64_t len, uint64_t off);
#endif
