/* The driver's fallback oracle (oracle.c): a scalar model of every format, used where the kernel
 * registry has no __ref for an (op, format). */
#ifndef EDGEAI_TEST_ORACLE_H
#define EDGEAI_TEST_ORACLE_H
#include "edgeai_kernels.h"

/* The oracle's function for (op, type) with the op's signature (ea_quantize_fn, ...), or NULL. */
void (*oracle_fn(ea_op op, int type))(void);

#endif
