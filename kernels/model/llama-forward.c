#define _POSIX_C_SOURCE 200809L
/* One decode step (M = 1) of a llama-family transformer, over the kernel API.
 *
 * Per layer: rmsnorm -> one parallel pass over the rows of Wq, Wk, Wv (the activation is
 * quantized once per activation format) -> RoPE, KV write, attention (parallel over KV heads x
 * chunks of positions) -> Wo -> rmsnorm -> one parallel pass over Wgate and Wup, each task
 * applying act(gate) * up to its rows -> Wdown. Five fork/joins of the persistent pool per layer;
 * everything else is a few microseconds of serial float code. Matrix rows are split into tasks of
 * a multiple of EA_ROW_TILE rows, so the thread count never changes the result. */
#include "llama-forward.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../blocks.h"
#include "../prefetch.h"
#include "act.h"
#include "norm.h"
#include "rope.h"
#include "softmax.h"

/* Weight bytes per decode GEMV task (rows are capped at 256 per task and rounded so the task count is
 * a multiple of the thread count, which keeps small matrices such as a 192-row Wk split evenly).
 * 256 KiB, not 64 KiB: two threads streaming a TinyLlama-shape Q4_0 model from DRAM decoded
 * 27-29 tok/s with 64 KiB tasks and 39-40 with 256 KiB ones (Sapphire Rapids, 2 cores, weights in
 * huge page-cache folios; 1 thread +2%); 512 KiB and 1 MiB gave no more. Short tasks make the two
 * threads alternate between neighbouring 64 KiB pieces of each matrix, and each task restarts the
 * prefetch stream and the kernel's activation set-up. */
#define TASK_BYTES 262144
#define MAX_SEG 3
#define N_ACT 4         /* activation formats a model may need at once: f32, q8_0, q8_1, q8_K */
#define ATT_CHUNK 64    /* attention tasks take a multiple of 64 positions ... */
#define ATT_MAX_CHUNKS 8 /* ... in at most 8 chunks per KV head: 3 KV heads x a 200-token context make
                          * 12 tasks, not 3; long contexts keep long chunks (each chunk's V product
                          * ends in a horizontal sum per output, so short chunks cost more) */

/* ---- fp16 -> fp32 by table: attention reads the f16 cache element by element -------------- */

static float g_h2f[65536];
static pthread_once_t g_h2f_once = PTHREAD_ONCE_INIT;
static void h2f_init(void) {
    for (int i = 0; i < 65536; i++) g_h2f[i] = ea_fp16_to_f32((ea_fp16)i);
}

/* ---- workspace ------------------------------------------------------------------------------ */

typedef struct {
    ea_type atype;
    void *buf;          /* one quantized row of the widest input */
} act_slot;

struct ea_llm_ws {
    float *x, *xb, *q, *k, *v, *att, *hb, *hb2;   /* activations */
    float *scores;                                /* (n_head, n_ctx) */
    float *part_o, *part_m, *part_l;              /* per attention chunk: o (n_head, ATT_MAX_CHUNKS, hd);
                                                   * m, l (n_head, ATT_MAX_CHUNKS) */
    float *cos, *sin, *cos_l, *sin_l;             /* (rope_dim/2) */
    float *inv_freq, *inv_freq_l;
    act_slot acts[N_ACT];
    size_t act_bytes;
    ea_dot_fn dot_f16;   /* the kernel library's f16 . f32 dot, if this build has one */
    ea_gemm_fn gemm_f16; /* its f16 x f32 tile kernel, for attention over an f16 cache (see ea_llm_ws_new) */
};

static void *xalloc(size_t n) {
    void *p = NULL;
    if (posix_memalign(&p, 64, n ? n : 64) != 0) return NULL;
    memset(p, 0, n);
    return p;
}

static int check_mat(const ea_mat *w, int64_t rows, int64_t k, const char *what, char *err, int errlen) {
    if (!w->data) {
        snprintf(err, errlen, "%s: no data", what);
        return -1;
    }
    if (w->rows != rows || w->k != k) {
        snprintf(err, errlen, "%s: shape (%lld, %lld), expected (%lld, %lld)", what, (long long)w->rows,
                 (long long)w->k, (long long)rows, (long long)k);
        return -1;
    }
    const ea_type_traits *tr = ea_type_info(w->type);
    if (!tr || !tr->is_weight || k % tr->block_size) {
        snprintf(err, errlen, "%s: type %d is not a weight type for k=%lld", what, (int)w->type, (long long)k);
        return -1;
    }
    if (!ea_dispatch(EA_OP_DOT, w->type)) {
        snprintf(err, errlen, "%s: no dot kernel for %s", what, tr->name);
        return -1;
    }
    if (tr->act_type != EA_F32 && !ea_dispatch(EA_OP_QUANTIZE, tr->act_type)) {
        snprintf(err, errlen, "%s: no quantize kernel for its activation format", what);
        return -1;
    }
    return 0;
}

void ea_llm_ws_free(ea_llm_ws *ws) {
    if (!ws) return;
    float *fs[] = {ws->x, ws->xb, ws->q, ws->k, ws->v, ws->att, ws->hb, ws->hb2, ws->scores, ws->part_o, ws->part_m,
                   ws->part_l, ws->cos, ws->sin, ws->cos_l, ws->sin_l, ws->inv_freq, ws->inv_freq_l};
    for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) free(fs[i]);
    for (int i = 0; i < N_ACT; i++) free(ws->acts[i].buf);
    free(ws);
}

ea_llm_ws *ea_llm_ws_new(const ea_llm *m, char *err, int errlen) {
    if (m->n_layer <= 0 || m->d <= 0 || m->n_head <= 0 || m->n_kv <= 0 || m->hd <= 0 || m->ff <= 0 ||
        m->vocab <= 0 || m->n_ctx <= 0 || m->n_head % m->n_kv || m->rope_dim > m->hd || m->rope_dim % 2) {
        snprintf(err, errlen, "invalid model sizes");
        return NULL;
    }
    if (!m->kcache || !m->vcache || !m->layers || !m->output_norm) {
        snprintf(err, errlen, "missing KV cache, layers or output norm");
        return NULL;
    }
    int64_t d = m->d, qd = (int64_t)m->n_head * m->hd, kvd = (int64_t)m->n_kv * m->hd, ff = m->ff;
    if (check_mat(&m->output, m->vocab, d, "output", err, errlen)) return NULL;
    if (m->tok_embd.rows != m->vocab || m->tok_embd.k != d || !ea_dispatch(EA_OP_DEQUANTIZE, m->tok_embd.type)) {
        snprintf(err, errlen, "token embedding: wrong shape or no dequantize kernel");
        return NULL;
    }
    for (int l = 0; l < m->n_layer; l++) {
        const ea_layer *L = &m->layers[l];
        char what[64];
#define CHK(field, r, c) \
        snprintf(what, sizeof what, "layer %d " #field, l); \
        if (check_mat(&L->field, r, c, what, err, errlen)) return NULL;
        CHK(wq, qd, d) CHK(wk, kvd, d) CHK(wv, kvd, d) CHK(wo, d, qd) CHK(gate, ff, d) CHK(up, ff, d) CHK(down, d, ff)
#undef CHK
        if (!L->attn_norm || !L->ffn_norm) {
            snprintf(err, errlen, "layer %d: missing norm weights", l);
            return NULL;
        }
    }
    pthread_once(&g_h2f_once, h2f_init);
    ea_llm_ws *ws = (ea_llm_ws *)calloc(1, sizeof(*ws));
    if (!ws) return NULL;
    int64_t wide = d > qd ? d : qd;
    if (ff > wide) wide = ff;
    int half = m->rope_dim / 2;
    ws->x = xalloc(d * 4);
    ws->xb = xalloc(wide * 4);
    ws->q = xalloc(qd * 4);
    ws->k = xalloc(kvd * 4);
    ws->v = xalloc(kvd * 4);
    ws->att = xalloc(qd * 4);
    ws->hb = xalloc(ff * 4);
    ws->hb2 = xalloc(ff * 4);
    ws->scores = xalloc((size_t)m->n_head * m->n_ctx * 4);
    ws->part_o = xalloc((size_t)m->n_head * ATT_MAX_CHUNKS * m->hd * 4);
    ws->part_m = xalloc((size_t)m->n_head * ATT_MAX_CHUNKS * 4);
    ws->part_l = xalloc((size_t)m->n_head * ATT_MAX_CHUNKS * 4);
    ws->cos = xalloc(half * 4 + 4);
    ws->sin = xalloc(half * 4 + 4);
    ws->cos_l = xalloc(half * 4 + 4);
    ws->sin_l = xalloc(half * 4 + 4);
    ws->inv_freq = xalloc(half * 4 + 4);
    ws->inv_freq_l = xalloc(half * 4 + 4);
    ws->act_bytes = (size_t)wide * 4 + 1024; /* any 8-bit format of `wide` elements fits in f32's size */
    for (int i = 0; i < N_ACT; i++) {
        ws->acts[i].atype = EA_TYPE_MAX;
        ws->acts[i].buf = xalloc(ws->act_bytes);
    }
    if (!ws->x || !ws->xb || !ws->q || !ws->k || !ws->v || !ws->att || !ws->hb || !ws->hb2 || !ws->scores ||
        !ws->part_o || !ws->part_m || !ws->part_l ||
        !ws->acts[N_ACT - 1].buf) {
        ea_llm_ws_free(ws);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    const ea_variant *df = ea_dispatch(EA_OP_DOT, EA_F16);
    /* the scalar reference converts each half with bit operations: the table below is faster */
    ws->dot_f16 = df && df->atype == EA_F32 && df->isa != EA_ISA_REF ? (ea_dot_fn)df->fn : NULL;
    /* Attention over an f16 cache takes the gemm tile kernel when there is one at least as
     * specialised as the dot (the rule of ea_matmul): one call per KV head for the scores of its
     * query heads and one for their weighted sums of V, instead of a dot per (head, position) and
     * per (head, dim). Only x86 tile kernels: they accumulate in f32 like the dot. The ARM one
     * (ea_gemm_f16_f32__neondot) multiplies in fp16 arithmetic, ~1e-3 of sum |w x| (its tolerance in
     * tests/kernels/test_variants.py), which is fine for weights but would put fp16 rounding on the
     * q.k scores and on every output of attention; attention there keeps the precise f32 dot. */
    const ea_variant *gf = ea_dispatch(EA_OP_GEMM, EA_F16);
    int f32_tile = gf && (gf->isa == EA_ISA_SSE4 || gf->isa == EA_ISA_AVX2 || gf->isa == EA_ISA_AVXVNNI ||
                          gf->isa == EA_ISA_AVX512VNNI);
    /* On x86 the tile wins whatever the dot's ISA: an AVX-512 host has an avx512vnni f16 dot but
     * the avx2 tile, and the dots made a SmolLM2 token at position 1500 cost ~2x one at position 0. */
    ws->gemm_f16 = ws->dot_f16 && f32_tile && gf->atype == EA_F32 ? (ea_gemm_fn)gf->fn : NULL;
    for (int i = 0; i < half; i++) {
        double f = pow((double)m->rope_theta, -2.0 * i / m->rope_dim);
        if (m->rope_freq_factors) f /= m->rope_freq_factors[i];
        ws->inv_freq[i] = (float)f;
        ws->inv_freq_l[i] = (float)pow((double)m->rope_local_theta, -2.0 * i / m->rope_dim);
    }
    return ws;
}

/* ---- small float helpers (serial: d is a few hundred to a few thousand) ------------------------ */

/* ---- matrix-vector products: several matrices sharing one input, one fork/join ------------------ */

typedef struct {
    const ea_mat *w;
    float *y;
    const void *a;      /* the input in w's activation format */
    ea_dot_fn dot;      /* one of dot / gemm (m = 1, a tile of rows) */
    ea_gemm_fn gemm;
    size_t w_row, a_row;
    int64_t rows_per_task, tasks;
} seg;

typedef struct {
    seg s[MAX_SEG];
    int nseg;
    int glu;            /* 0, or 1 (silu) / 2 (gelu): s[0] = gate, s[1] = up, split together */
} gemv_job;

static float gelu_tanh(float x) {
    return 0.5f * x * (1.f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
}

/* y[r] = W[r] . a for rows r0 <= r < r1 of one segment */
static void seg_rows(const seg *s, int64_t r0, int64_t r1) {
    const char *w = (const char *)s->w->data + (size_t)r0 * s->w_row;
    int64_t k = s->w->k;
    if (s->gemm) {
        s->gemm(k, 1, r1 - r0, &s->y[r0], r1 - r0, w, s->w_row, s->a, s->a_row);
        return;
    }
    for (int64_t r = r0; r < r1; r++, w += s->w_row) s->dot(k, &s->y[r], w, s->a);
}

static void gemv_task(void *ctx, int64_t t, int thread) {
    (void)thread;
    const gemv_job *j = (const gemv_job *)ctx;
    int i = 0;
    if (!j->glu)
        while (t >= j->s[i].tasks) t -= j->s[i++].tasks;
    const seg *s = &j->s[i];
    int64_t r0 = t * s->rows_per_task, r1 = r0 + s->rows_per_task;
    if (r1 > s->w->rows) r1 = s->w->rows;
    seg_rows(s, r0, r1);
    if (!j->glu) return;
    /* the same rows of up, then hb[r] = act(gate[r]) * up[r] while both are in L1 */
    seg_rows(&j->s[1], r0, r1);
    float *g = j->s[0].y, *u = j->s[1].y;
    if (j->glu == 1) {
        ea_silu_mul(g + r0, u + r0, r1 - r0);
        return;
    }
    for (int64_t r = r0; r < r1; r++) g[r] = gelu_tanh(g[r]) * u[r];
}

/* Rows per task for a matrix of `rows` rows of `row_bytes` bytes: about TASK_BYTES of weights, and
 * with several threads a task count that is a multiple of the thread count, so that equal-speed
 * threads finish together (a 576-row Wo in tasks of 180 rows left one of two threads 2 tasks, the
 * other 2 short ones). Always a multiple of EA_ROW_TILE rows (see edgeai_kernels.h). */
static int64_t rows_per_task(int64_t rows, size_t row_bytes, int nthreads) {
    const int64_t q = EA_ROW_TILE;
    int64_t rpt = (int64_t)(TASK_BYTES / row_bytes);
    if (rpt > 256) rpt = 256;
    rpt = rpt < q ? q : rpt / q * q;
    if (nthreads > 1) {
        int64_t nt = (rows + rpt - 1) / rpt;
        nt = (nt + nthreads - 1) / nthreads * nthreads;
        rpt = ((rows + nt - 1) / nt + q - 1) / q * q;
    }
    return rpt;
}

/* The input x (k floats) in activation format `at`, quantized at most once per call site. */
static const void *act_of(ea_llm_ws *ws, const float *x, int64_t k, ea_type at) {
    if (at == EA_F32) return x;
    for (int i = 0; i < N_ACT; i++) {
        if (ws->acts[i].atype == at) return ws->acts[i].buf;
        if (ws->acts[i].atype == EA_TYPE_MAX) {
            ((ea_quantize_fn)ea_dispatch(EA_OP_QUANTIZE, at)->fn)(x, ws->acts[i].buf, k);
            ws->acts[i].atype = at;
            return ws->acts[i].buf;
        }
    }
    return NULL; /* unreachable: N_ACT covers every activation format */
}

/* y_i = W_i @ x for up to three matrices with the same input x (k floats). glu (1 silu, 2 gelu):
 * two matrices of equal rows (gate, up), whose tasks take the same rows of both and leave
 * act(gate) * up in ys[0]. */
static void gemv(ea_llm_ws *ws, const float *x, int nseg, const ea_mat *const *ws_, float *const *ys, int nthreads,
                 int glu) {
    gemv_job j;
    int64_t total = 0;
    for (int i = 0; i < N_ACT; i++) ws->acts[i].atype = EA_TYPE_MAX;
    j.nseg = nseg;
    j.glu = glu;
    for (int i = 0; i < nseg; i++) {
        const ea_mat *w = ws_[i];
        seg *s = &j.s[i];
        s->w = w;
        s->y = ys[i];
        s->a = act_of(ws, x, w->k, ea_type_info(w->type)->act_type);
        /* same rule as ea_matmul: a gemm tile kernel if it is at least as specialised as the dot
         * (tile kernels prepare the activation once per call, dot kernels once per row) */
        const ea_variant *dv = ea_dispatch(EA_OP_DOT, w->type), *gv = ea_dispatch(EA_OP_GEMM, w->type);
        s->dot = (ea_dot_fn)dv->fn;
        s->gemm = gv && ea_isa_rank(gv->isa) >= ea_isa_rank(dv->isa) ? (ea_gemm_fn)gv->fn : NULL;
        s->w_row = ea_row_size(w->type, w->k);
        ea_type at = ea_type_info(w->type)->act_type;
        s->a_row = at == EA_F32 ? (size_t)w->k * sizeof(float) : ea_row_size(at, w->k);
        /* glu: up takes the gate's split (sized by the gate's rows, so a task reads twice
         * TASK_BYTES and the gemv calls, each preparing its activation once, stay as few) */
        s->rows_per_task = glu && i == 1 ? j.s[0].rows_per_task : rows_per_task(w->rows, s->w_row, nthreads);
        s->tasks = (w->rows + s->rows_per_task - 1) / s->rows_per_task;
        if (!glu || i == 0) total += s->tasks;
    }
    ea_parallel_for(total, gemv_task, &j, nthreads);
}

/* ---- attention: one task per (KV head, chunk of positions) ------------------------------------
 * A KV head's group of query heads reads the same keys, so a task takes all of them. Each task
 * leaves, per query head h and chunk c, the chunk's max score m, the sum l of exp(s - m) and the
 * unnormalised output o = sum_t exp(s_t - m) V[:, t]; attn_merge then combines the chunks
 * (flash-decoding): att_h = sum_c e^(m_c - M) o_c / sum_c e^(m_c - M) l_c, M = max_c m_c. Chunks
 * are fixed (from the window start, see ATT_CHUNK), so the thread count never changes the
 * result (the chunk length depends on the context length only), and 2 threads share 3 KV heads
 * evenly once the context has a few chunks. */

typedef struct {
    const ea_llm *m;
    ea_llm_ws *ws;
    int layer, pos, t0, chunk, nch;  /* positions t0..pos in nch chunks of `chunk` (the last shorter) */
} attn_job;

/* sum_i x[i] * h[i] for an f16 row h: the library's f16 dot kernel if there is one, else by table
 * (four accumulators so the adds overlap) */
static float dot_f16(const ea_llm_ws *ws, const uint16_t *h, const float *x, int n) {
    if (ws->dot_f16) {
        float s;
        ws->dot_f16(n, &s, h, x);
        return s;
    }
    float a0 = 0.f, a1 = 0.f, a2 = 0.f, a3 = 0.f;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        a0 += x[i] * g_h2f[h[i]];
        a1 += x[i + 1] * g_h2f[h[i + 1]];
        a2 += x[i + 2] * g_h2f[h[i + 2]];
        a3 += x[i + 3] * g_h2f[h[i + 3]];
    }
    for (; i < n; i++) a0 += x[i] * g_h2f[h[i]];
    return (a0 + a1) + (a2 + a3);
}

static float dot_f32(const float *h, const float *x, int n) {
    float a0 = 0.f, a1 = 0.f, a2 = 0.f, a3 = 0.f;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        a0 += x[i] * h[i];
        a1 += x[i + 1] * h[i + 1];
        a2 += x[i + 2] * h[i + 2];
        a3 += x[i + 3] * h[i + 3];
    }
    for (; i < n; i++) a0 += x[i] * h[i];
    return (a0 + a1) + (a2 + a3);
}

/* Ask for this task's K rows (n positions x hd, contiguous) and V^T columns (hd rows n_ctx apart,
 * n positions each) before the work starts. Between two layers the weights stream through the
 * last-level cache, so a step finds its KV cache in DRAM, and V^T's rows are too short and far
 * apart for the hardware prefetcher: the V product waited on one miss after another. SmolLM2-135M
 * Q4_1 decode, Zen 4, same process, medians of 6 rounds of 64 tokens, ms/token without / with a
 * prefetch into L1 / into L2: 1 thread after a 256-token prompt 6.31 / 6.19 / 5.81, after 128
 * tokens 5.56 / 5.40 / 5.31; 2 threads after 128 3.79 / 3.56 / 3.67. TinyLlama-shape Q4_0 (its
 * weights' time dwarfs attention at 64-128 positions): no change. ea_prefetch_l2 (prefetch.h): gcc
 * 12 deleted this loop as dead code when it was __builtin_prefetch. */
static void attn_prefetch(const ea_llm *m, const uint16_t *kh, const uint16_t *vh, const float *kf, const float *vf,
                          int c0, int n) {
    const size_t es = m->kv_f16 ? 2 : 4, row = (size_t)n * es;
    const char *k = m->kv_f16 ? (const char *)(kh + (size_t)c0 * m->hd) : (const char *)(kf + (size_t)c0 * m->hd);
    for (size_t o = 0; o < row * (size_t)m->hd; o += 64) ea_prefetch_l2(k + o);
    for (int i = 0; i < m->hd; i++) {
        const char *v = m->kv_f16 ? (const char *)(vh + (size_t)i * m->n_ctx + c0)
                                  : (const char *)(vf + (size_t)i * m->n_ctx + c0);
        for (size_t o = 0; o < row; o += 64) ea_prefetch_l2(v + o);
        ea_prefetch_l2(v + row - 1); /* the row's last line when it does not start on one */
    }
}

static void attn_task(void *ctx, int64_t task, int thread) {
    (void)thread;
    const attn_job *j = (const attn_job *)ctx;
    const ea_llm *m = j->m;
    ea_llm_ws *ws = j->ws;
    const int hd = m->hd, g = m->n_head / m->n_kv, n_ctx = m->n_ctx, mc = ATT_MAX_CHUNKS;
    const int kvh = (int)(task / j->nch), c = (int)(task % j->nch);
    const int c0 = j->t0 + c * j->chunk, c1 = c0 + j->chunk < j->pos + 1 ? c0 + j->chunk : j->pos + 1;
    const int n = c1 - c0, h0 = kvh * g;
    const size_t base = ((size_t)j->layer * m->n_kv + kvh) * (size_t)n_ctx * hd;
    float *sc0 = ws->scores + (size_t)h0 * n_ctx;
    /* output rows of this chunk: query head h at part_o[(h * mc + c) * hd], mc * hd apart */
    float *o0 = ws->part_o + ((size_t)h0 * mc + c) * hd;
    const int tile = m->kv_f16 && ws->gemm_f16;
    const uint16_t *kh = (const uint16_t *)m->kcache + base, *vh = (const uint16_t *)m->vcache + base;
    const float *kf = (const float *)m->kcache + base, *vf = (const float *)m->vcache + base;
    attn_prefetch(m, kh, vh, kf, vf, c0, n);
    /* scores[gi, t] = q_gi . K[t] for t in [c0, c1): on the tile kernel, weight rows = K rows (hd
     * f16 each), every K element converted once for the g query heads */
    if (tile)
        ws->gemm_f16(hd, g, n, sc0 + c0, n_ctx, kh + (size_t)c0 * hd, (size_t)hd * 2, ws->q + (size_t)h0 * hd,
                     (size_t)hd * 4);
    else
        for (int gi = 0; gi < g; gi++) {
            const float *q = ws->q + (size_t)(h0 + gi) * hd;
            float *sc = sc0 + (size_t)gi * n_ctx;
            for (int t = c0; t < c1; t++)
                sc[t] = m->kv_f16 ? dot_f16(ws, kh + (size_t)t * hd, q, hd) : dot_f32(kf + (size_t)t * hd, q, hd);
        }
    for (int gi = 0; gi < g; gi++) {
        const size_t pi = (size_t)(h0 + gi) * mc + c;
        ws->part_l[pi] = ea_softmax_chunk(sc0 + (size_t)gi * n_ctx + c0, n, m->attn_scale, &ws->part_m[pi]);
    }
    /* o[gi, i] = sum_t p[gi, t] V[i, t], V stored transposed (hd x n_ctx): on the tile kernel,
     * weight rows = the hd rows of V^T (n_ctx apart), their columns c0..c1-1 */
    if (tile) {
        ws->gemm_f16(n, g, hd, o0, (int64_t)mc * hd, vh + c0, (size_t)n_ctx * 2, sc0 + c0, (size_t)n_ctx * 4);
        return;
    }
    for (int gi = 0; gi < g; gi++) {
        const float *p = sc0 + (size_t)gi * n_ctx + c0;
        float *o = o0 + (size_t)gi * mc * hd;
        for (int i = 0; i < hd; i++)
            o[i] = m->kv_f16 ? dot_f16(ws, vh + (size_t)i * n_ctx + c0, p, n)
                             : dot_f32(vf + (size_t)i * n_ctx + c0, p, n);
    }
}

/* att (n_head, hd) from the chunks of attn_task (see above) */
static void attn_merge(const ea_llm *m, ea_llm_ws *ws, int nch) {
    const int hd = m->hd, mc = ATT_MAX_CHUNKS;
    for (int h = 0; h < m->n_head; h++) {
        const float *pm = ws->part_m + (size_t)h * mc, *pl = ws->part_l + (size_t)h * mc;
        float M = -INFINITY, L = 0.f;
        for (int c = 0; c < nch; c++)
            if (pm[c] > M) M = pm[c];
        float *out = ws->att + (size_t)h * hd;
        for (int i = 0; i < hd; i++) out[i] = 0.f;
        for (int c = 0; c < nch; c++) {
            const float e = expf(pm[c] - M);
            const float *o = ws->part_o + ((size_t)h * mc + c) * hd;
            L += e * pl[c];
            for (int i = 0; i < hd; i++) out[i] += e * o[i];
        }
        const float inv = 1.f / L;
        for (int i = 0; i < hd; i++) out[i] *= inv;
    }
}

/* ---- the step -------------------------------------------------------------------------------- */

int ea_llm_decode(const ea_llm *m, ea_llm_ws *ws, int token, int pos, float *logits, int nthreads) {
    if (token < 0 || token >= m->vocab) return EA_ERR_SHAPE;
    if (pos < 0 || pos >= m->n_ctx) return EA_ERR_SHAPE;
    int64_t d = m->d, hd = m->hd, kvd = (int64_t)m->n_kv * hd;
    int half = m->rope_dim / 2;
    float *x = ws->x;

    /* embedding row -> x (d) */
    ((ea_dequantize_fn)ea_dispatch(EA_OP_DEQUANTIZE, m->tok_embd.type)->fn)(
        (const char *)m->tok_embd.data + (size_t)token * ea_row_size(m->tok_embd.type, d), x, d);
    if (m->embed_scale != 1.f)
        for (int64_t i = 0; i < d; i++) x[i] *= m->embed_scale;

    /* RoPE angles of this position: global and (gemma3) local */
    for (int i = 0; i < half; i++) {
        float a = (float)pos / m->rope_scale * ws->inv_freq[i];
        ws->cos[i] = cosf(a);
        ws->sin[i] = sinf(a);
        float al = (float)pos * ws->inv_freq_l[i];
        ws->cos_l[i] = cosf(al);
        ws->sin_l[i] = sinf(al);
    }

    for (int l = 0; l < m->n_layer; l++) {
        const ea_layer *L = &m->layers[l];
        int local = m->sliding_window > 0 && m->sw_pattern > 0 && (l + 1) % m->sw_pattern != 0;

        /* ---- attention: q (H*hd), k, v (KV*hd) = W @ rmsnorm(x) */
        ea_rmsnorm(ws->xb, x, L->attn_norm, d, m->eps);
        {
            const ea_mat *w3[3] = {&L->wq, &L->wk, &L->wv};
            float *y3[3] = {ws->q, ws->k, ws->v};
            gemv(ws, ws->xb, 3, w3, y3, nthreads, 0);
        }
        if (L->bq) {
            for (int64_t i = 0; i < m->n_head * hd; i++) ws->q[i] += L->bq[i];
            for (int64_t i = 0; i < kvd; i++) ws->k[i] += L->bk[i];
            for (int64_t i = 0; i < kvd; i++) ws->v[i] += L->bv[i];
        }
        if (L->q_norm) {
            for (int h = 0; h < m->n_head; h++) ea_rmsnorm(ws->q + h * hd, ws->q + h * hd, L->q_norm, hd, m->eps);
            for (int h = 0; h < m->n_kv; h++) ea_rmsnorm(ws->k + h * hd, ws->k + h * hd, L->k_norm, hd, m->eps);
        }
        const float *cs = local ? ws->cos_l : ws->cos, *sn = local ? ws->sin_l : ws->sin;
        ea_rope(ws->q, 1, m->n_head, (int)hd, m->rope_dim, m->rope_neox, cs, sn);
        ea_rope(ws->k, 1, m->n_kv, (int)hd, m->rope_dim, m->rope_neox, cs, sn);
        /* write this position's keys (row) and values (column) */
        for (int h = 0; h < m->n_kv; h++) {
            size_t base = ((size_t)l * m->n_kv + h) * (size_t)m->n_ctx * hd;
            for (int64_t i = 0; i < hd; i++) {
                float kv = ws->k[h * hd + i], vv = ws->v[h * hd + i];
                if (m->kv_f16) {
                    ((uint16_t *)m->kcache)[base + (size_t)pos * hd + i] = ea_f32_to_fp16(kv);
                    ((uint16_t *)m->vcache)[base + (size_t)i * m->n_ctx + pos] = ea_f32_to_fp16(vv);
                } else {
                    ((float *)m->kcache)[base + (size_t)pos * hd + i] = kv;
                    ((float *)m->vcache)[base + (size_t)i * m->n_ctx + pos] = vv;
                }
            }
        }
        {
            const int window = local ? m->sliding_window : 0;
            const int t0 = window > 0 && pos - window + 1 > 0 ? pos - window + 1 : 0;
            const int npos = pos - t0 + 1, span = ATT_CHUNK * ATT_MAX_CHUNKS;
            const int chunk = ATT_CHUNK * ((npos + span - 1) / span), nch = (npos + chunk - 1) / chunk;
            attn_job aj = {m, ws, l, pos, t0, chunk, nch};
            /* attention work is ~pos * hd per head: not worth waking threads for a short context */
            ea_parallel_for((int64_t)m->n_kv * nch, attn_task, &aj, pos >= 64 ? nthreads : 1);
            attn_merge(m, ws, nch);
        }
        {
            const ea_mat *w1[1] = {&L->wo};
            float *y1[1] = {ws->xb};
            gemv(ws, ws->att, 1, w1, y1, nthreads, 0);            /* Wo (d, H*hd) @ att -> (d) */
        }
        if (L->post_attn_norm) ea_rmsnorm(ws->xb, ws->xb, L->post_attn_norm, d, m->eps);
        for (int64_t i = 0; i < d; i++) x[i] += ws->xb[i];

        /* ---- feed-forward: down(act(gate(h)) * up(h)) */
        ea_rmsnorm(ws->xb, x, L->ffn_norm, d, m->eps);
        {
            const ea_mat *w2[2] = {&L->gate, &L->up};
            float *y2[2] = {ws->hb, ws->hb2};
            gemv(ws, ws->xb, 2, w2, y2, nthreads, m->act_gelu ? 2 : 1); /* act((ff, d) @ h) * ((ff, d) @ h) */
        }
        {
            const ea_mat *w1[1] = {&L->down};
            float *y1[1] = {ws->xb};
            gemv(ws, ws->hb, 1, w1, y1, nthreads, 0);             /* (d, ff) @ hb -> (d) */
        }
        if (L->post_ffn_norm) ea_rmsnorm(ws->xb, ws->xb, L->post_ffn_norm, d, m->eps);
        for (int64_t i = 0; i < d; i++) x[i] += ws->xb[i];
    }

    ea_rmsnorm(ws->xb, x, m->output_norm, d, m->eps);
    {
        const ea_mat *w1[1] = {&m->output};
        float *y1[1] = {logits};
        gemv(ws, ws->xb, 1, w1, y1, nthreads, 0);                 /* (vocab, d) @ x -> (vocab) */
    }
    if (m->final_softcap > 0.f)
        for (int64_t i = 0; i < m->vocab; i++) logits[i] = tanhf(logits[i] / m->final_softcap) * m->final_softcap;
    return EA_OK;
}
