/* Interface between the restorer and the restored agent's restart entry. */
#ifndef STASIS_RESTART_H
#define STASIS_RESTART_H
#include <stdint.h>

/* The restorer's ELF image is linked at STASIS_RESTORER_TEXT (just below 2 GiB: the
 * static glibc needs the small code model; normal programs live at 0x400000 + brk
 * heap, PIEs at 0x55..., mmaps at 0x7f...). Its scratch mappings (image header and
 * tables, moved vdso) live in [SCRATCH, SCRATCH_END) at 1 TiB. */
#define STASIS_RESTORER_TEXT        0x7e000000ull
#define STASIS_RESTORER_SCRATCH     0x10000000000ull
#define STASIS_RESTORER_SCRATCH_END 0x10100000000ull

struct stasis_restart_args {
    uint32_t version;        /* 4 (1: no report_fd; 2: no redirects; 3: no prefetch) */
    uint32_t use_set_tid;    /* 1: recreate threads with their saved tids */
    uint64_t restorer_start; /* ranges the agent unmaps once it runs */
    uint64_t restorer_end;
    uint64_t scratch_start;
    uint64_t scratch_end;
    char agent_socket[108]; /* where to reconnect ("" = stay disconnected) */
    int32_t report_fd;      /* version >= 2: the restorer's report channel (-1: none);
                                  * the agent writes "@ready <pid>" (or its error) and closes it */
    uint32_t redirects_len; /* version >= 3: bytes of the plan's redirects at `redirects` */
    uint64_t redirects;     /* "from<TAB>to\n" lines, in the restorer's memory (the agent
                                  * adds them to its table before it unmaps the restorer) */
    /* version >= 4: background prefetch (agent/prefetch.c). prefetch = 1: once the
     * program runs again, the checkpoint thread pages in every private mapping of the
     * image file (identified by device and inode) that the lazy restore left unread */
    uint64_t image_ino;
    uint32_t image_dev_major;
    uint32_t image_dev_minor;
    uint32_t prefetch;
    uint32_t reserved;
};

/* the restored agent's entry: never returns; called on proc.entry_stack */
typedef void (*stasis_restart_entry_fn)(const struct stasis_restart_args *);

#endif
