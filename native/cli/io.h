/* Robust fd I/O: EINTR retried, partial transfers completed. */
#ifndef STASIS_CLI_IO_H
#define STASIS_CLI_IO_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Write all n bytes. Returns 0, or -1 with errno set. */
int io_write_all(int fd, const void *buf, size_t n);

/* Write all iovecs (the array is modified). Returns 0, or -1 with errno set. */
int io_writev_all(int fd, struct iovec *iov, int count);

/* read(2) retried on EINTR. */
ssize_t io_read(int fd, void *buf, size_t n);

/* Read fd to EOF into a malloc'ed buffer (NUL-terminated, *len excludes the NUL).
 * Returns 0, or -1 with errno set. */
int io_read_all(int fd, char **out, size_t *len);

#endif
