/* Pipes of the plan (pipes.c). */
#ifndef STASIS_PIPES_H
#define STASIS_PIPES_H
/* create every pipe the plan's fd lines name, refill the saved data, and point each
 * FD_PIPE entry's src at its end; -1 + message on failure */
int pipes_create(void);
#endif
