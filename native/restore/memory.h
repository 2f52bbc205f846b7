/* Phase 2 of the restorer: replace the address space with the image and jump into
 * the restored agent. Never returns (exits 1 with a message on failure). */
#ifndef STASIS_MEMORY_H
#define STASIS_MEMORY_H
#include "stasis/restart.h"
/* phase 1: open the files the image maps shared (path-map applied) at fds >= above */
int memory_open_shared_files(int above);
/* copy = 1: read page data into anonymous memory instead of mapping the image */
void memory_restore_and_jump(int image_fd, const struct stasis_restart_args *args, int copy) __attribute__((noreturn));
#endif
