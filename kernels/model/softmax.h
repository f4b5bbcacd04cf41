/* The softmax of one chunk of attention scores, four lanes at a time on every architecture.
 *
 * Decode attention runs exp once per (query head, cached position, layer): 9 x 1500 x 30 = 405k
 * calls per token for SmolLM2 at a 1500-token context. libm's scalar expf (with the scale and max
 * loops) made that over a third of the attention time, more than the Q.K or the weighted sum of V. */
#ifndef EDGEAI_MODEL_SOFTMAX_H
#define EDGEAI_MODEL_SOFTMAX_H

#ifdef __cplusplus
extern "C" {
#endif

/* e^x for each of n floats, x <= 0 (a score minus the chunk's maximum), in place. Relative error
 * below 3e-7 for x >= -87; x < -87 (or -inf) gives 0 (e^-87 ~ 1.6e-38: nothing next to the
 * maximum's 1); NaN stays NaN. Identical bits on every architecture (plain float arithmetic,
 * no contraction) and for any n or alignment.
 *
 * Args:
 *   x: n floats, overwritten.
 * Returns:
 *   sum of the results (four partial sums over lanes i % 4, then ((s0 + s1) + (s2 + s3))). */
float ea_exp_neg_sum(float *x, int n);

/* s[t] *= scale for t < n, then s[t] = exp(s[t] - max) in place.
 *
 * Args:
 *   s: n >= 1 scores (n floats), overwritten with their unnormalised probabilities.
 *   scale: the attention scale (1 / sqrt(head_dim) or the model's own).
 *   mx: out, the maximum of the scaled scores (NaN scores are skipped).
 * Returns:
 *   the sum of the probabilities (NaN if any score was NaN). */
float ea_softmax_chunk(float *s, int n, float scale, float *mx);

#ifdef __cplusplus
}
#endif

#endif
