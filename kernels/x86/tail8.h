/* The row tail of the grouped GEMVs (avx2-gemv.h, sse4-gemv.h) as a compile-time constant. */
#ifndef EDGEAI_X86_TAIL8_H
#define EDGEAI_X86_TAIL8_H

/* STMT(NT) with NT = r (0..7) as a constant: each tail length nb % 8 gets its own instantiation of the
 * row loop instead of run-time branches in every row (short rows such as K = 576, two groups and 2
 * blocks, lost ~10% to them). */
#define EA_TAIL8(r, STMT)            \
    switch (r) {                     \
    case 0: STMT(0); break;          \
    case 1: STMT(1); break;          \
    case 2: STMT(2); break;          \
    case 3: STMT(3); break;          \
    case 4: STMT(4); break;          \
    case 5: STMT(5); break;          \
    case 6: STMT(6); break;          \
    default: STMT(7); break;         \
    }

#endif
