/* Installing the planned fd table in the restored process. */
#ifndef STASIS_FDTABLE_H
#define STASIS_FDTABLE_H
/* keep_fd (the image) is moved above all planned fds, then *report (the report
 * channel, where stderr writes: moved first, so that messages about the fd table
 * reach it; -1: none) and the nmore fds of more[] (the restorer's own, e.g. shared
 * memory; -1 entries skipped) above it, in place; every other fd is closed. Returns
 * keep_fd's new number or -1 */
int fdtable_install(int keep_fd, int *more, int nmore, int *report);
#endif
