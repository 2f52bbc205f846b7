/* Stasis per-process memory image: on-disk layout (see doc/image-format.md).
 * All integers little endian (x86_64 native), all structs fixed-size. */
#ifndef STASIS_IMAGE_H
#define STASIS_IMAGE_H
#include <stddef.h>
#include <stdint.h>

#define STASIS_IMG_MAGIC "STASISIM"
#define STASIS_IMG_VERSION                                                                                             \
    3u /* 3: compressed page data (frames); 2: incremental images (parent fields,
                                   * parent runs); 1 is still read */
#define STASIS_IMG_VERSION_PLAIN                                                                                       \
    2u /* what an image with uncompressed page data is written as: older
                                     * readers keep reading it; only compressed images need version 3 */
#define STASIS_IMG_VERSION_MIN 1u
#define STASIS_IMG_PARENT_LEN  256
#define STASIS_IMG_MAX_THREADS 256
#define STASIS_IMG_NSIG        64
#define STASIS_IMG_NRLIMIT     16
#define STASIS_IMG_NSPECIAL    4
#define STASIS_IMG_MAX_AREAS   8192 /* per process: what the agent saves, what every reader accepts */

/* stasis_img_proc.kflags */
#define STASIS_PROC_CWD_DELETED 0x1u /* cwd was deleted; `cwd` is the path it had */

/* area kinds */
enum stasis_area_kind {
    STASIS_AREA_ANON = 1,         /* private anonymous (heap, stacks, malloc arenas) */
    STASIS_AREA_FILE_PRIVATE = 2, /* private file mapping: stored like anon */
    STASIS_AREA_FILE_SHARED = 3,  /* shared file mapping: not stored, file re-mapped */
    STASIS_AREA_SHARED_ANON = 4,  /* MAP_SHARED|MAP_ANONYMOUS (or deleted shmem): stored, mapped shared */
    STASIS_AREA_VDSO = 5,         /* [vdso]: not stored, kernel's vdso moved here */
};

/* area flags */
#define STASIS_AF_SHARED 0x1u /* 's' in /proc/self/maps */
#define STASIS_AF_STACK  0x2u /* [stack] */
#define STASIS_AF_HEAP   0x4u /* [heap] */

struct stasis_img_area {
    uint64_t start, end; /* [start, end) virtual addresses */
    uint64_t pgoff;      /* offset in the mapped file (file kinds) */
    uint64_t data_bytes; /* bytes stored for this area (sum of its runs) */
    uint32_t prot;       /* PROT_* bits */
    uint32_t flags;      /* STASIS_AF_* */
    uint32_t kind;       /* enum stasis_area_kind */
    uint32_t crc32c;     /* CRC32C (Castagnoli) of the area's stored data, runs in order */
    uint32_t run_first;  /* index into the run table */
    uint32_t run_count;
    uint32_t name_off; /* offset of the name in the name pool (NUL-terminated) */
    uint32_t name_len; /* 0 = anonymous, no name */
};

/* a run of stored pages: mapped MAP_PRIVATE|MAP_FIXED from the image at restart.
 * file_offset == STASIS_RUN_PARENT (version 2, images with a parent): the pages are
 * not in this image; they are what the parent image holds at the same addresses
 * (zero where the parent holds nothing). */
#define STASIS_RUN_PARENT (1ull << 63)
struct stasis_img_run {
    uint64_t addr;        /* page-aligned virtual address */
    uint64_t len;         /* multiple of page_size */
    uint64_t file_offset; /* page-aligned offset in the image file */
};

/* Compressed page data (version 3, proc.compress.algo != 0): run file offsets are offsets
 * in the image's *raw data*, the page data as an uncompressed image would hold it, from
 * data_offset on; the file holds it as frames, each one zstd frame of at most
 * STASIS_IMG_FRAME_RAW bytes of raw data of one area, stored from file_offset (page
 * aligned, padded with zeros to a page). Frames are in raw-offset order and cover the raw
 * data [data_offset, data_offset + compress.raw_bytes) without gaps. The frame table
 * lies at compress.frames_offset (after the tables), checked by compress.frames_crc32c. */
#define STASIS_IMG_ZSTD      1u
#define STASIS_IMG_FRAME_RAW (4u << 20)
struct stasis_img_frame {
    uint64_t raw_offset;  /* where its raw data starts (data_offset + raw bytes before it) */
    uint64_t file_offset; /* where its compressed bytes start in the file */
    uint32_t raw_len;     /* raw bytes it holds (a page multiple) */
    uint32_t comp_len;    /* compressed bytes */
    uint32_t area;        /* the area its pages belong to */
    uint32_t crc32c;      /* CRC32C of the compressed bytes (checked without decompressing) */
};

struct stasis_img_compress {
    uint32_t algo;     /* 0 = none, STASIS_IMG_ZSTD */
    uint32_t n_frames; /* entries of the frame table */
    uint64_t frames_offset;
    uint64_t raw_bytes; /* raw data bytes (what data_bytes is in an uncompressed image) */
    uint32_t frames_crc32c;
    int32_t level; /* the compression level used (information) */
};

/* struct k_sigaction as the rt_sigaction syscall sees it on x86_64 */
struct stasis_img_sigaction {
    uint64_t handler, flags, restorer, mask;
};

struct stasis_img_special { /* [vdso], [vvar], [vvar_vclock] ... */
    uint64_t start, end;
    char name[16];
};

struct stasis_img_mm { /* struct prctl_mm_map fields (PR_SET_MM_MAP) */
    uint64_t start_code, end_code, start_data, end_data;
    uint64_t start_brk, brk, start_stack;
    uint64_t arg_start, arg_end, env_start, env_end;
};

struct stasis_img_proc {
    uint64_t entry;       /* restored agent's restart entry point */
    uint64_t entry_stack; /* top of a stack in restored memory for the entry */
    uint64_t main_fsbase; /* fs base of the main thread */
    uint32_t umask, personality;
    uint32_t n_special, auxv_words;
    struct stasis_img_special special[STASIS_IMG_NSPECIAL];
    struct stasis_img_sigaction sigact[STASIS_IMG_NSIG]; /* index = signo - 1 */
    struct {
        uint64_t cur, max;
    } rlim[STASIS_IMG_NRLIMIT];
    struct stasis_img_mm mm;
    uint64_t auxv[64];
    struct {
        int64_t interval_sec, interval_usec, value_sec, value_usec;
    } itimer[3];       /* REAL, VIRTUAL, PROF */
    uint64_t xcr0;     /* XSAVE features enabled (xgetbv 0) */
    uint32_t cpuid[5]; /* feature bits: leaf 1 ecx, edx; leaf 7.0 ebx, ecx, edx */
    uint32_t pad0;
    int64_t monotonic[2]; /* CLOCK_MONOTONIC at checkpoint {sec, nsec} */
    int64_t boottime[2];  /* CLOCK_BOOTTIME at checkpoint */
    uint32_t kflags;      /* STASIS_PROC_* */
    uint32_t pad1;
    uint64_t image_id;                   /* random, unique per image (version 2; 0 in version 1) */
    uint64_t parent_id;                  /* image_id of the parent image, 0 = self-contained */
    char parent[STASIS_IMG_PARENT_LEN];  /* "CKPT-DIR-NAME/image-PID.img": the parent image, found
                                         * beside this image's checkpoint directory */
    struct stasis_img_compress compress; /* version 3: page data compressed (algo != 0) */
    uint64_t reserved[5];                /* zero; room for later fields without moving cwd */
    char cwd[4096];
};

struct stasis_img_header {
    char magic[8];        /* STASIS_IMG_MAGIC, no NUL */
    uint32_t version;     /* STASIS_IMG_VERSION */
    uint32_t header_size; /* sizeof(struct stasis_img_header) */
    char arch[16];        /* "x86_64" */
    char kernel[72];      /* uname -r of the checkpointed machine */
    uint32_t page_size;
    uint32_t n_areas;
    uint32_t n_runs;
    uint32_t n_threads;
    uint64_t data_offset;  /* first data byte (page aligned, after the header) */
    uint64_t data_bytes;   /* total stored page data */
    uint64_t table_offset; /* areas[n_areas], runs[n_runs], then the name pool */
    uint64_t table_size;
    uint64_t file_size; /* total image size, for truncation checks */
    int32_t pid, ppid;
    int32_t tids[STASIS_IMG_MAX_THREADS]; /* tids[0] = main thread */
    struct stasis_img_proc proc;
    uint32_t table_crc32c;  /* CRC32C of the table bytes */
    uint32_t header_crc32c; /* CRC32C of this header with this field zero */
};

/* The layout other readers hard-code (Java ImageLayout, tests/imagefmt.py, doc/image-format.md):
 * a change here fails the build here, and tests/image_layout.c + tests/check_image_layout.py
 * fail `make` until those readers agree. */
#define STASIS_IMG_ASSERT_AT(type, field, off)                                                                         \
    _Static_assert(offsetof(struct type, field) == (off), #type "." #field " moved: update every reader")
_Static_assert(sizeof(struct stasis_img_header) == 8880, "image header size changed: update every reader");
_Static_assert(sizeof(struct stasis_img_proc) == 7680, "image proc size changed: update every reader");
_Static_assert(sizeof(struct stasis_img_area) == 64, "image area size changed: update every reader");
_Static_assert(sizeof(struct stasis_img_run) == 24, "image run size changed: update every reader");
_Static_assert(sizeof(struct stasis_img_frame) == 32, "image frame size changed: update every reader");
_Static_assert(sizeof(struct stasis_img_compress) == 32, "image compress size changed: update every reader");
STASIS_IMG_ASSERT_AT(stasis_img_header, version, 8);
STASIS_IMG_ASSERT_AT(stasis_img_header, header_size, 12);
STASIS_IMG_ASSERT_AT(stasis_img_header, arch, 16);
STASIS_IMG_ASSERT_AT(stasis_img_header, kernel, 32);
STASIS_IMG_ASSERT_AT(stasis_img_header, page_size, 104);
STASIS_IMG_ASSERT_AT(stasis_img_header, n_areas, 108);
STASIS_IMG_ASSERT_AT(stasis_img_header, n_runs, 112);
STASIS_IMG_ASSERT_AT(stasis_img_header, n_threads, 116);
STASIS_IMG_ASSERT_AT(stasis_img_header, data_offset, 120);
STASIS_IMG_ASSERT_AT(stasis_img_header, data_bytes, 128);
STASIS_IMG_ASSERT_AT(stasis_img_header, table_offset, 136);
STASIS_IMG_ASSERT_AT(stasis_img_header, table_size, 144);
STASIS_IMG_ASSERT_AT(stasis_img_header, file_size, 152);
STASIS_IMG_ASSERT_AT(stasis_img_header, pid, 160);
STASIS_IMG_ASSERT_AT(stasis_img_header, ppid, 164);
STASIS_IMG_ASSERT_AT(stasis_img_header, tids, 168);
STASIS_IMG_ASSERT_AT(stasis_img_header, proc, 1192);
STASIS_IMG_ASSERT_AT(stasis_img_header, table_crc32c, 8872);
STASIS_IMG_ASSERT_AT(stasis_img_header, header_crc32c, 8876);
STASIS_IMG_ASSERT_AT(stasis_img_proc, entry, 0);
STASIS_IMG_ASSERT_AT(stasis_img_proc, kflags, 3232);
STASIS_IMG_ASSERT_AT(stasis_img_proc, image_id, 3240);
STASIS_IMG_ASSERT_AT(stasis_img_proc, parent_id, 3248);
STASIS_IMG_ASSERT_AT(stasis_img_proc, parent, 3256);
STASIS_IMG_ASSERT_AT(stasis_img_proc, compress, 3512);
STASIS_IMG_ASSERT_AT(stasis_img_proc, cwd, 3584);
STASIS_IMG_ASSERT_AT(stasis_img_compress, algo, 0);
STASIS_IMG_ASSERT_AT(stasis_img_compress, n_frames, 4);
STASIS_IMG_ASSERT_AT(stasis_img_compress, frames_offset, 8);
STASIS_IMG_ASSERT_AT(stasis_img_compress, raw_bytes, 16);
STASIS_IMG_ASSERT_AT(stasis_img_compress, frames_crc32c, 24);
STASIS_IMG_ASSERT_AT(stasis_img_compress, level, 28);
STASIS_IMG_ASSERT_AT(stasis_img_frame, raw_offset, 0);
STASIS_IMG_ASSERT_AT(stasis_img_frame, file_offset, 8);
STASIS_IMG_ASSERT_AT(stasis_img_frame, raw_len, 16);
STASIS_IMG_ASSERT_AT(stasis_img_frame, comp_len, 20);
STASIS_IMG_ASSERT_AT(stasis_img_frame, area, 24);
STASIS_IMG_ASSERT_AT(stasis_img_frame, crc32c, 28);
STASIS_IMG_ASSERT_AT(stasis_img_area, start, 0);
STASIS_IMG_ASSERT_AT(stasis_img_area, end, 8);
STASIS_IMG_ASSERT_AT(stasis_img_area, pgoff, 16);
STASIS_IMG_ASSERT_AT(stasis_img_area, data_bytes, 24);
STASIS_IMG_ASSERT_AT(stasis_img_area, prot, 32);
STASIS_IMG_ASSERT_AT(stasis_img_area, flags, 36);
STASIS_IMG_ASSERT_AT(stasis_img_area, kind, 40);
STASIS_IMG_ASSERT_AT(stasis_img_area, crc32c, 44);
STASIS_IMG_ASSERT_AT(stasis_img_area, run_first, 48);
STASIS_IMG_ASSERT_AT(stasis_img_area, run_count, 52);
STASIS_IMG_ASSERT_AT(stasis_img_area, name_off, 56);
STASIS_IMG_ASSERT_AT(stasis_img_area, name_len, 60);
STASIS_IMG_ASSERT_AT(stasis_img_run, addr, 0);
STASIS_IMG_ASSERT_AT(stasis_img_run, len, 8);
STASIS_IMG_ASSERT_AT(stasis_img_run, file_offset, 16);
#undef STASIS_IMG_ASSERT_AT

#endif
