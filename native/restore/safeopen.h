/* Opening the files a checkpoint names (images, blobs) without leaving its directory. */
#ifndef STASIS_SAFEOPEN_H
#define STASIS_SAFEOPEN_H

/* Opens the last component of path read-only beneath its directory: no symlink is
 * followed there (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS; before Linux 5.6
 * openat O_NOFOLLOW of a '/'-free name), never blocks (O_NONBLOCK: a FIFO named as a
 * file must not hang the reader) and must be a regular file. Returns the fd
 * (close-on-exec, blocking again), or -1 with *why set to a static text. */
int open_beneath(const char *path, const char **why);

/* the last component of path (for messages) */
const char *path_base(const char *path);
#endif
