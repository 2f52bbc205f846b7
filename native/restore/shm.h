/* Memory shared between restored processes ('shared <start-hex> <key>' lines). */
#ifndef STASIS_SHM_H
#define STASIS_SHM_H
#include <stdint.h>
/* While process proc's image is loaded (g_img), before any process is created: check
 * its shared lines against the image, create (or grow) one memfd per key and copy the
 * saved data of its views into it. -1 after a one-line message. */
int shm_take_image(int proc);
/* the memfds, one per key (-1: not created); fdtable_install moves them in place */
int *shm_fds(int *n);
/* memfd of the object viewed by the selected process's area at start, -1 if none */
int shm_fd_for(uint64_t start);
/* the memfds (some -1), for phase 2 to close once the views are mapped; -> count */
int shm_fd_list(const int **fds);
#endif
