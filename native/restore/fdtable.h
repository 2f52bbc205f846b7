/* Installing the planned fd table in the restored process. */
#ifndef STASIS_FDTABLE_H
#define STASIS_FDTABLE_H
/* keep_fd (the image) is moved above all planned fds; returns its new number or -1 */
int fdtable_install(int keep_fd);
#endif
