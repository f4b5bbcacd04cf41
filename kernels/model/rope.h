/* Rotary position embedding of rows of heads, shared by the C decode step and the prefill
 * (bindings/llm.cpp): one rotation code for both. Each side builds its own cos / sin tables (the
 * decode step in float per position, the prefill in float64 then rounded), so their angles, and
 * hence their bits, can differ in the last place. */
#ifndef EDGEAI_MODEL_ROPE_H
#define EDGEAI_MODEL_ROPE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Rotate x (rows, heads, hd) in place. Row r uses the angles cs[r * half + i], sn[r * half + i]
 * (half = rope_dim / 2, i < half) for every head: the pair (a, b) = (i, i + half) if neox, else
 * (2i, 2i + 1), becomes (a cos - b sin, a sin + b cos). Elements at rope_dim.. hd - 1 are kept.
 *
 * Args:
 *   x: rows * heads * hd floats; rows, heads >= 0; hd >= rope_dim; rope_dim even, >= 2;
 *   neox: nonzero for the (i, i + half) pairing; cs, sn: rows * half floats. */
void ea_rope(float *x, int64_t rows, int heads, int hd, int rope_dim, int neox, const float *cs, const float *sn);

#ifdef __cplusplus
}
#endif
#endif
