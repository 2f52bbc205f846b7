/* Compressed images (doc/image-format.md, "Compressed images"): the page data of a WRITE
 * goes through a staging buffer, one frame of at most STASIS_IMG_FRAME_RAW bytes of one
 * area at a time, and is stored as one zstd frame (with its content checksum) per buffer.
 * Runs in the checkpoint thread while every other thread is parked: the program's malloc
 * may be held by a parked thread, so the zstd context lives on memory mapped here
 * (ZSTD_initStaticCCtx: zstd allocates nothing itself) and everything is unmapped after
 * the WRITE (none of it is part of the next image). */
#include "agent.h"
#include "stasis/rawsys.h"
#include <sys/mman.h>
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#define MAX_FRAMES (1u << 20) /* 4 TiB of raw data at 4 MiB a frame */

static int g_level, g_on; /* the COMPRESS request: next WRITEs */
static struct {
    char *raw, *out, *cctx_mem;
    size_t out_cap, cctx_size;
    ZSTD_CCtx *cctx;
    struct stasis_img_frame *frames;
} g_z;

void stasis_compress_set(int on, int level)
{
    g_on = on;
    g_level = level;
}

int stasis_compress_on(int *level)
{
    *level = g_level;
    return g_on;
}

static void *map(size_t len)
{
    long p = rsys6(SYS_mmap, 0, (long)len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p < 0 ? 0 : (void *)p;
}

static void unmap(void *p, size_t len)
{
    if (p) rsys2(SYS_munmap, p, len);
}

static size_t page_up(size_t n) { return (n + 4095) & ~(size_t)4095; }

int stasis_zbuf_open(const char **err)
{
    r_memset(&g_z, 0, sizeof g_z);
    g_z.out_cap = page_up(ZSTD_compressBound(STASIS_IMG_FRAME_RAW));
    g_z.cctx_size = page_up(ZSTD_estimateCCtxSize(g_level));
    g_z.raw = map(STASIS_IMG_FRAME_RAW);
    g_z.out = map(g_z.out_cap);
    g_z.cctx_mem = map(g_z.cctx_size);
    g_z.frames = map(MAX_FRAMES * sizeof(struct stasis_img_frame));
    if (!g_z.raw || !g_z.out || !g_z.cctx_mem || !g_z.frames) {
        *err = "cannot map memory to compress the image";
        stasis_zbuf_close();
        return -1;
    }
    g_z.cctx = ZSTD_initStaticCCtx(g_z.cctx_mem, g_z.cctx_size);
    if (!g_z.cctx || ZSTD_isError(ZSTD_CCtx_setParameter(g_z.cctx, ZSTD_c_compressionLevel, g_level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(g_z.cctx, ZSTD_c_checksumFlag, 1))) {
        *err = "cannot set up zstd compression";
        stasis_zbuf_close();
        return -1;
    }
    return 0;
}

void stasis_zbuf_close(void)
{
    unmap(g_z.raw, STASIS_IMG_FRAME_RAW);
    unmap(g_z.out, g_z.out_cap);
    unmap(g_z.cctx_mem, g_z.cctx_size);
    unmap(g_z.frames, MAX_FRAMES * sizeof(struct stasis_img_frame));
    r_memset(&g_z, 0, sizeof g_z);
}

char *stasis_zbuf_raw(void) { return g_z.raw; }

struct stasis_img_frame *stasis_zbuf_frames(uint32_t n) { return n < MAX_FRAMES ? g_z.frames : 0; }

/* the staging buffer's first raw_len bytes as one frame at *out, zero-padded to a page:
 * its padded length (the compressed length in *comp_len), or -1 */
long stasis_zbuf_compress(uint32_t raw_len, const void **out, uint32_t *comp_len)
{
    size_t n = ZSTD_compress2(g_z.cctx, g_z.out, g_z.out_cap, g_z.raw, raw_len);
    if (ZSTD_isError(n)) return -1;
    size_t padded = page_up(n);
    r_memset(g_z.out + n, 0, padded - n);
    *out = g_z.out;
    *comp_len = (uint32_t)n;
    return (long)padded;
}
