/* Prefill attention over an f16 KV cache (attn-prefill.h).
 *
 * One task = one KV head x up to QB query rows, for each of the KV head's g query heads:
 *   scores (nq, nk) = Q (nq, hd) . K[k_lo .. k_hi)^T   on the f16 tile kernel, K rows as weight rows
 *   softmax of each row over the positions its query sees, the rest set to 0
 *   out (nq, hd)    = P (nq, nk) . V^T                 V^T rows (hd of them, cap apart) as weight rows
 * k_lo .. k_hi is the union of the rows' visible ranges; the masked corner of a block (< QB^2 / 2
 * scores) is computed and then zeroed, which costs less than splitting the block. Without an x86
 * f16 tile kernel (ARM, whose f16 tile multiplies in fp16, and the reference build) the same sums
 * go through the library's f16 . f32 dot, one per (row, key) and per (row, dim). */
#include <stdlib.h>
#include "../edgeai_kernels.h"
#include "attn-prefill.h"
#include "softmax.h"

#define QB 16 /* query rows per task: 64-token batches give 4 tasks per KV head */

typedef struct {
    const float *q;
    const uint16_t *kc, *vc;
    float *out;
    int T, H, g, hd, window, nqb;
    int64_t cap, pos0;
    float scale;
    ea_gemm_fn gemm;
    ea_dot_fn dot;
    volatile int err;
} attn_job;

static void attn_task(void *ctx, int64_t task, int thread) {
    (void)thread;
    attn_job *j = (attn_job *)ctx;
    const int kvh = (int)(task / j->nqb), t0 = (int)(task % j->nqb) * QB;
    const int nq = j->T - t0 < QB ? j->T - t0 : QB, H = j->H, hd = j->hd;
    const int64_t p0 = j->pos0 + t0, k_hi = p0 + nq; /* positions of rows t0 .. t0+nq-1: p0 .. k_hi-1 */
    const int64_t k_lo = j->window > 0 && p0 - j->window + 1 > 0 ? p0 - j->window + 1 : 0;
    const int nk = (int)(k_hi - k_lo);
    float *sc = (float *)malloc((size_t)nq * nk * sizeof(float));
    if (!sc) {
        j->err = EA_ERR_NOMEM;
        return;
    }
    const uint16_t *K = j->kc + ((size_t)kvh * j->cap + k_lo) * hd; /* (nk, hd) rows */
    const uint16_t *V = j->vc + (size_t)kvh * hd * j->cap + k_lo;   /* (hd, nk), rows cap apart */
    for (int gi = 0; gi < j->g; gi++) {
        const int h = kvh * j->g + gi;
        const float *q = j->q + ((size_t)t0 * H + h) * hd;   /* nq rows, H * hd apart */
        float *o = j->out + ((size_t)t0 * H + h) * hd;       /* nq rows, H * hd apart */
        if (j->gemm)
            j->gemm(hd, nq, nk, sc, nk, K, (size_t)hd * 2, q, (size_t)H * hd * 4);
        else
            for (int r = 0; r < nq; r++)
                for (int s = 0; s < nk; s++) j->dot(hd, &sc[(size_t)r * nk + s], K + (size_t)s * hd, q + (size_t)r * H * hd);
        for (int r = 0; r < nq; r++) {
            /* row r sees positions lo .. p, i.e. columns a .. b - 1 */
            const int64_t p = p0 + r, lo = j->window > 0 && p - j->window + 1 > k_lo ? p - j->window + 1 : k_lo;
            const int a = (int)(lo - k_lo), b = (int)(p + 1 - k_lo);
            float *row = sc + (size_t)r * nk, mx;
            const float inv = 1.0f / ea_softmax_chunk(row + a, b - a, j->scale, &mx);
            for (int s = 0; s < a; s++) row[s] = 0.0f;
            for (int s = a; s < b; s++) row[s] *= inv;
            for (int s = b; s < nk; s++) row[s] = 0.0f;
        }
        if (j->gemm)
            j->gemm(nk, nq, hd, o, (int64_t)H * hd, V, (size_t)j->cap * 2, sc, (size_t)nk * 4);
        else
            for (int r = 0; r < nq; r++)
                for (int i = 0; i < hd; i++)
                    j->dot(nk, &o[(size_t)r * H * hd + i], V + (size_t)i * j->cap, sc + (size_t)r * nk);
    }
    free(sc);
}

int ea_attn_prefill(const float *q, int T, int n_head, int n_kv, int hd, const uint16_t *kc, const uint16_t *vc,
                    int64_t cap, int64_t pos0, int window, float scale, float *out, int nthreads) {
    if (T < 0 || n_head <= 0 || n_kv <= 0 || hd <= 0 || n_head % n_kv != 0 || pos0 < 0 || window < 0 ||
        pos0 + T > cap)
        return EA_ERR_SHAPE;
    if (T == 0) return EA_OK;
    attn_job j = {q, kc, vc, out, T, n_head, n_head / n_kv, hd, window, (T + QB - 1) / QB, cap, pos0, scale,
                  NULL, NULL, EA_OK};
    /* the x86 tile kernels accumulate in f32 like the dot (see ea_llm_ws_new in llama-forward.c) */
    const ea_variant *gf = ea_dispatch(EA_OP_GEMM, EA_F16);
    if (gf && gf->atype == EA_F32 && (gf->isa == EA_ISA_SSE4 || gf->isa == EA_ISA_AVX2 ||
                                      gf->isa == EA_ISA_AVXVNNI || gf->isa == EA_ISA_AVX512VNNI))
        j.gemm = (ea_gemm_fn)gf->fn;
    const ea_variant *df = ea_dispatch(EA_OP_DOT, EA_F16);
    if (!j.gemm) {
        if (!df || df->atype != EA_F32) return EA_ERR_NOKERNEL;
        j.dot = (ea_dot_fn)df->fn;
    }
    ea_parallel_for((int64_t)n_kv * j.nqb, attn_task, &j, nthreads);
    return j.err;
}
