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
#endif
