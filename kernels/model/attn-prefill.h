/* Causal grouped-query attention of a prefill batch over an f16 KV cache, on the kernel pool.
 *
 * The prefill's readable twin is edgeai/llm/model.py's attention() (numpy, one thread): for a
 * TinyLlama-shape 64-token batch it was ~10% of a 2-thread prefill, serial while the matmuls
 * around it use every core. */
#ifndef EDGEAI_MODEL_ATTN_PREFILL_H
#define EDGEAI_MODEL_ATTN_PREFILL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* out[t, h] = softmax_s(scale * q[t, h] . K[kv, s]) . V[kv, :, s] over the positions s the query at
 * position p = pos0 + t sees: s <= p, and p - s < window if window > 0. Query head h reads KV head
 * h / (n_head / n_kv).
 *
 * The work is a fixed grid of (KV head, block of query rows) tasks, independent of the thread
 * count: the result is bit-identical for any nthreads.
 *
 * Args:
 *   q: (T, n_head, hd) float32, rotated queries.
 *   kc: (n_kv, cap, hd) IEEE half keys; positions 0 .. pos0 + T - 1 must be filled.
 *   vc: (n_kv, hd, cap) IEEE half values, stored transposed.
 *   cap: positions the cache holds (>= pos0 + T).
 *   pos0: position of query row 0.
 *   window: sliding window, 0 for none.
 *   scale: attention scale applied to q . k.
 *   out: (T, n_head * hd) float32.
 *   nthreads: threads of the kernel pool (<= 0: the global count).
 * Returns:
 *   EA_OK, EA_ERR_SHAPE for inconsistent sizes, EA_ERR_NOMEM. */
int ea_attn_prefill(const float *q, int T, int n_head, int n_kv, int hd, const uint16_t *kc, const uint16_t *vc,
                    int64_t cap, int64_t pos0, int window, float scale, float *out, int nthreads);

#ifdef __cplusplus
}
#endif
#endif
