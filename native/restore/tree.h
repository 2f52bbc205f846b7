/* Restoring a process tree: several process lines in one plan (tree.c). */
#ifndef STASIS_TREE_H
#define STASIS_TREE_H
#include <stdint.h>
#include <sys/types.h>
/* load and validate every process's image (and its data with 'verify on'), then
 * release them; the latest saved clocks (for the time namespace). -1 + message */
int tree_check_images(int64_t monotonic[2], int64_t boottime[2]);
/* ns_spawn_tree callback: creates the processes in tree order with their saved pids,
 * sessions and process groups; returns the plan index in each of them, -1 in init */
int tree_build(pid_t *main_child);
/* does any process of the plan have zombie lines (then the tree path is taken) */
int tree_has_zombies(void);
#endif
