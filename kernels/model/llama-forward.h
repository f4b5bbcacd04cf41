/* One decode step of a llama-family transformer (llama, qwen2, gemma3, phi3) in C, over the
 * public kernel API: the per-token loop without Python between the kernels.
 * The readable twin is edgeai/llm/model.py; both fill the same KV cache. */
#ifndef EDGEAI_LLAMA_FORWARD_H
#define EDGEAI_LLAMA_FORWARD_H

#include <stdint.h>
#include "../edgeai_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A weight matrix W (rows, k) of one ggml type, rows of ea_row_size(type, k) bytes. */
typedef struct ea_mat {
    ea_type type;
    const void *data;
    int64_t rows, k;
} ea_mat;

typedef struct ea_layer {
    const float *attn_norm, *ffn_norm;               /* (d) */
    ea_mat wq, wk, wv, wo, gate, up, down;
    const float *bq, *bk, *bv;                       /* optional biases (qwen2) */
    const float *q_norm, *k_norm;                    /* optional per-head norms (hd) (gemma3) */
    const float *post_attn_norm, *post_ffn_norm;     /* optional (d) (gemma3) */
} ea_layer;

typedef struct ea_llm {
    int n_layer, d, n_head, n_kv, hd, ff, vocab, n_ctx, rope_dim;
    int rope_neox;        /* pairs (i, i+rope_dim/2) instead of (2i, 2i+1) */
    int act_gelu;         /* gate activation GELU(tanh) instead of SiLU */
    int sliding_window, sw_pattern; /* local layers: (l+1) % sw_pattern != 0 */
    float eps, rope_theta, rope_scale, rope_local_theta, attn_scale, embed_scale, final_softcap;
    const float *rope_freq_factors; /* (rope_dim/2) or NULL */
    ea_mat tok_embd, output;
    const float *output_norm;
    const ea_layer *layers;        /* n_layer */
    /* KV cache, owned by the caller: k (n_layer, n_kv, n_ctx, hd); v (n_layer, n_kv, hd, n_ctx),
     * i.e. V is stored transposed so that attention's weighted sum is a dot product per dim. */
    void *kcache, *vcache;
    int kv_f16;                    /* 1: IEEE half, 0: float32 */
} ea_llm;

/* Opaque scratch space for one model (activations, quantized activations, scores). */
typedef struct ea_llm_ws ea_llm_ws;

/* Checks the model description (every matrix has a kernel and fitting shape); NULL on error with
 * a message in err (errlen bytes). */
ea_llm_ws *ea_llm_ws_new(const ea_llm *m, char *err, int errlen);
void ea_llm_ws_free(ea_llm_ws *ws);

/* Runs `token` at position `pos` (0 <= pos < n_ctx; positions < pos must be in the cache), writes
 * its keys/values at `pos`, and the logits (vocab floats) to `logits`. Returns EA_OK or an error. */
int ea_llm_decode(const ea_llm *m, ea_llm_ws *ws, int token, int pos, float *logits, int nthreads);

#ifdef __cplusplus
}
#endif
#endif
