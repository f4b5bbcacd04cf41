#define _POSIX_C_SOURCE 200809L
/* Drivers: row-wise quantize / dequantize and y[m,n] = x[m,k] @ W[n,k]^T.
 *
 * The work is cut into a fixed grid of tiles (MB rows of x by NB rows of W) that depends on
 * (m, n, k) only, never on the thread count, so every output is produced by the same kernel
 * call whatever the number of threads: results are bit-identical across thread counts. */
#include <stdlib.h>
#include <string.h>
#include "../edgeai_kernels.h"

#define EA_ALIGN 64
#define EA_MB 64            /* rows of x per tile */
/* ... for the avx512vnni GEMMs: their panel micro-kernels pack each K segment of weights once per
 * call and reuse it for every activation row, so a taller tile packs less. C harness, Zen 4,
 * 1 thread, q4_0, weights from memory, 64 -> 128 rows: 128 weight rows x K = 2048 280-283 -> 290-294
 * GOPS, 256 x 2048 288-293 -> 313-316, 128 x 5632 284-287 -> 305-309. The grid stays a function of
 * (m, n, k) and the kernel, never of the thread count. */
#define EA_MB_AVX512VNNI 128
/* Weight bytes per tile: L2-sized, so the MB activation rows of a GEMM tile reuse the tile's weights
 * from L2, and big enough that a tile kernel's per-call set-up (e.g. the avx512vnni kernels
 * rearrange the activation rows into the weight layout once per call) is amortised over many
 * weight rows. EA_MIN_COL_TASKS keeps enough tiles along n for load balance on a few threads:
 * 16 (4 per thread on a 4-core Pi). It was 48, which cut a 2048-row weight into 32-row tiles, each
 * re-packing the 64 activation rows for only 32 weight rows: 64 x 2048 @ q4_0 (2048, 2048)^T ran
 * 10-20% faster with 128-row tiles at 1 and 2 threads (AVX2, Zen 3), a TinyLlama-shape prefill
 * ~4-8% (same-process A/B). */
#define EA_TILE_BYTES (256 * 1024)
/* ... and for the avx512vnni GEMMs (m > 1), whose CPUs all have >= 1 MiB of L2 per core: down's
 * tiles went from 80 to 160 rows of K = 5632 (C harness, Zen 4, q4_0 m = 64: 80 rows 285-288 GOPS,
 * 128 rows 297-305), gate/up's from 224 to 352 of 2048. TinyLlama-shape Q4_0 64-token prefill,
 * same minutes, 3 runs each (best of 10): 1 thread 123.6-124.9 -> 127.7-128.7 tok/s, 2 threads
 * 215-237 -> 236-251. */
#define EA_TILE_BYTES_AVX512VNNI (512 * 1024)
#define EA_MIN_COL_TASKS 16
#define EA_SERIAL_MACS 32768 /* below this many multiply-adds, threads cost more than they give */

/* ---- row-wise conversions ---------------------------------------------------- */

typedef struct {
    const void *fn;
    const char *src;
    char *dst;
    size_t src_row, dst_row;
    int64_t k, rows_per_task, nrows;
} rows_job;

static void quant_task(void *ctx, int64_t t, int thread) {
    (void)thread;
    rows_job *j = (rows_job *)ctx;
    int64_t r0 = t * j->rows_per_task, r1 = r0 + j->rows_per_task;
    if (r1 > j->nrows) r1 = j->nrows;
    for (int64_t r = r0; r < r1; r++)
        ((ea_quantize_fn)j->fn)((const float *)(j->src + r * j->src_row), j->dst + r * j->dst_row, j->k);
}

static void dequant_task(void *ctx, int64_t t, int thread) {
    (void)thread;
    rows_job *j = (rows_job *)ctx;
    int64_t r0 = t * j->rows_per_task, r1 = r0 + j->rows_per_task;
    if (r1 > j->nrows) r1 = j->nrows;
    for (int64_t r = r0; r < r1; r++)
        ((ea_dequantize_fn)j->fn)(j->src + r * j->src_row, (float *)(j->dst + r * j->dst_row), j->k);
}

static int64_t rows_per_task(int64_t k) {
    int64_t r = 65536 / (k > 0 ? k : 1);
    return r < 1 ? 1 : r;
}

static int run_rows(int quant, const ea_variant *v, ea_type type, const void *src, void *dst,
                    int64_t nrows, int64_t k, int nthreads) {
    const ea_type_traits *tr = ea_type_info(type);
    if (!tr) return EA_ERR_TYPE;
    if (nrows < 0 || k < 0 || k % tr->block_size != 0) return EA_ERR_SHAPE;
    if (!v) return EA_ERR_NOKERNEL;
    if (nrows == 0 || k == 0) return EA_OK;
    rows_job j;
    j.fn = (const void *)v->fn;
    j.src = (const char *)src;
    j.dst = (char *)dst;
    j.k = k;
    j.nrows = nrows;
    j.rows_per_task = rows_per_task(k);
    size_t qrow = ea_row_size(type, k), frow = (size_t)k * sizeof(float);
    j.src_row = quant ? frow : qrow;
    j.dst_row = quant ? qrow : frow;
    int64_t ntasks = (nrows + j.rows_per_task - 1) / j.rows_per_task;
    ea_parallel_for(ntasks, quant ? quant_task : dequant_task, &j, nthreads);
    return EA_OK;
}

int ea_quantize_rows(ea_type type, const float *x, void *y, int64_t nrows, int64_t k) {
    return run_rows(1, ea_dispatch(EA_OP_QUANTIZE, type), type, x, y, nrows, k, 0);
}

int ea_dequantize_rows(ea_type type, const void *x, float *y, int64_t nrows, int64_t k) {
    return run_rows(0, ea_dispatch(EA_OP_DEQUANTIZE, type), type, x, y, nrows, k, 0);
}

/* ---- matmul ------------------------------------------------------------------ */

typedef struct {
    int64_t k, m, n, nb, mb, mblocks;
    const char *w;
    size_t w_row;
    const char *a;
    size_t a_row;
    float *y;
    ea_dot_fn dot;
    ea_gemm_fn gemm;
} mm_job;

static void mm_task(void *ctx, int64_t t, int thread) {
    (void)thread;
    const mm_job *j = (const mm_job *)ctx;
    int64_t nj = t / j->mblocks, mi = t % j->mblocks;
    int64_t j0 = nj * j->nb, i0 = mi * j->mb;
    int64_t nb = j->n - j0 < j->nb ? j->n - j0 : j->nb;
    int64_t mb = j->m - i0 < j->mb ? j->m - i0 : j->mb;
    const char *w = j->w + (size_t)j0 * j->w_row;
    const char *a = j->a + (size_t)i0 * j->a_row;
    float *y = j->y + i0 * j->n + j0;
    if (j->gemm) {
        j->gemm(j->k, mb, nb, y, j->n, w, j->w_row, a, j->a_row);
        return;
    }
    for (int64_t i = 0; i < mb; i++)
        for (int64_t c = 0; c < nb; c++)
            j->dot(j->k, &y[i * j->n + c], w + (size_t)c * j->w_row, a + (size_t)i * j->a_row);
}

/* The tile grid of one weight, a function of (m, n, k), the kernel and n_grid only: n_grid is the
 * n that sets the minimum number of column tiles (the weight's own n, or in a group the group's
 * total, so that a group's small weights get tiles as tall as its big ones). */
static void mm_grid(mm_job *j, const ea_variant *gemm, int64_t n_grid) {
    const int64_t mb = gemm && gemm->isa == EA_ISA_AVX512VNNI ? EA_MB_AVX512VNNI : EA_MB;
    const size_t tile_bytes = gemm && gemm->isa == EA_ISA_AVX512VNNI && j->m > 1 ? EA_TILE_BYTES_AVX512VNNI : EA_TILE_BYTES;
    int64_t nb = (int64_t)(tile_bytes / (j->w_row ? j->w_row : 1));
    if (nb > n_grid / EA_MIN_COL_TASKS) nb = n_grid / EA_MIN_COL_TASKS;
    if (nb > 512) nb = 512;
    nb &= ~(int64_t)(EA_ROW_TILE - 1);
    if (nb < EA_ROW_TILE) nb = EA_ROW_TILE;
    j->nb = nb;
    j->mb = j->m < mb ? j->m : mb;
    j->mblocks = (j->m + j->mb - 1) / j->mb;
}

static int64_t mm_tasks(const mm_job *j) { return ((j->n + j->nb - 1) / j->nb) * j->mblocks; }

/* a group's tasks: jobs[i] owns tasks [first[i], first[i + 1]) */
typedef struct {
    int count;
    const mm_job *jobs;
    int64_t first[EA_MATMUL_GROUP_MAX + 1];
} mm_group;

static void mm_group_task(void *ctx, int64_t t, int thread) {
    const mm_group *g = (const mm_group *)ctx;
    int i = 0;
    while (t >= g->first[i + 1]) i++;
    mm_task((void *)&g->jobs[i], t - g->first[i], thread);
}

/* y_i = x @ W_i^T for count weights of one type and K: x quantized once, one pool dispatch */
static int mm_run(ea_type wtype, int count, const void *const *w, const int64_t *n, int64_t k, const float *x,
                  int64_t m, float *const *y, int nthreads, const ea_variant *aq, const ea_variant *dot,
                  const ea_variant *gemm) {
    const ea_type_traits *tr = ea_type_info(wtype);
    if (!tr || !tr->is_weight) return EA_ERR_TYPE;
    if (count < 1 || count > EA_MATMUL_GROUP_MAX) return EA_ERR_SHAPE;
    if (m < 0 || k <= 0 || k % tr->block_size != 0) return EA_ERR_SHAPE;
    int64_t n_total = 0;
    for (int i = 0; i < count; i++) {
        if (n[i] < 0) return EA_ERR_SHAPE;
        n_total += n[i];
    }
    if (!dot && !gemm) return EA_ERR_NOKERNEL;
    if (m == 0 || n_total == 0) return EA_OK;
    if (nthreads <= 0) nthreads = ea_get_num_threads();
    if ((double)m * (double)n_total * (double)k < EA_SERIAL_MACS) nthreads = 1;

    ea_type at = tr->act_type;
    void *abuf = NULL;
    const char *a;
    size_t a_row;
    if (at == EA_F32) {
        a = (const char *)x;
        a_row = (size_t)k * sizeof(float);
    } else {
        if (!aq || aq->op != EA_OP_QUANTIZE || aq->wtype != at) return EA_ERR_NOKERNEL;
        a_row = ea_row_size(at, k);
        if (a_row == 0) return EA_ERR_SHAPE;
        if (posix_memalign(&abuf, EA_ALIGN, a_row * (size_t)m + EA_ALIGN) != 0) return EA_ERR_NOMEM;
        int rc = run_rows(1, aq, at, x, abuf, m, k, m > 1 ? nthreads : 1);
        if (rc != EA_OK) {
            free(abuf);
            return rc;
        }
        a = (const char *)abuf;
    }
    mm_job jobs[EA_MATMUL_GROUP_MAX];
    mm_group g;
    memset(jobs, 0, sizeof(jobs));
    memset(&g, 0, sizeof(g));
    g.count = count;
    g.jobs = jobs;
    for (int i = 0; i < count; i++) {
        mm_job *j = &jobs[i];
        j->a = a;
        j->a_row = a_row;
        j->k = k;
        j->m = m;
        j->n = n[i];
        j->w = (const char *)w[i];
        j->w_row = ea_row_size(wtype, k);
        j->y = y[i];
        j->dot = dot ? (ea_dot_fn)dot->fn : NULL;
        j->gemm = gemm ? (ea_gemm_fn)gemm->fn : NULL;
        mm_grid(j, gemm, n_total);
        g.first[i + 1] = g.first[i] + mm_tasks(j);
    }
    ea_parallel_for(g.first[count], mm_group_task, &g, nthreads);
    free(abuf);
    return EA_OK;
}

int ea_matmul_with(ea_type wtype, const void *w, int64_t n, int64_t k, const float *x, int64_t m,
                   float *y, int nthreads, const ea_variant *aq, const ea_variant *dot,
                   const ea_variant *gemm) {
    return mm_run(wtype, 1, &w, &n, k, x, m, &y, nthreads, aq, dot, gemm);
}

/* the dispatched variants of ea_matmul: activation quantizer, dot, and a gemm only if it is at
 * least as specialised as the best dot */
static int mm_dispatch(ea_type wtype, const ea_variant **aq, const ea_variant **dot, const ea_variant **gemm) {
    const ea_type_traits *tr = ea_type_info(wtype);
    if (!tr || !tr->is_weight) return EA_ERR_TYPE;
    *aq = tr->act_type == EA_F32 ? NULL : ea_dispatch(EA_OP_QUANTIZE, tr->act_type);
    *dot = ea_dispatch(EA_OP_DOT, wtype);
    *gemm = ea_dispatch(EA_OP_GEMM, wtype);
    if (*gemm && *dot && ea_isa_rank((*gemm)->isa) < ea_isa_rank((*dot)->isa)) *gemm = NULL;
    return EA_OK;
}

int ea_matmul_group(ea_type wtype, int count, const void *const *w, const int64_t *n, int64_t k, const float *x,
                    int64_t m, float *const *y, int nthreads) {
    const ea_variant *aq, *dot, *gemm;
    int rc = mm_dispatch(wtype, &aq, &dot, &gemm);
    if (rc != EA_OK) return rc;
    return mm_run(wtype, count, w, n, k, x, m, y, nthreads, aq, dot, gemm);
}

int ea_matmul(ea_type wtype, const void *w, int64_t n, int64_t k, const float *x, int64_t m,
              float *y, int nthreads) {
    const ea_variant *aq, *dot, *gemm;
    int rc = mm_dispatch(wtype, &aq, &dot, &gemm);
    if (rc != EA_OK) return rc;
    return ea_matmul_with(wtype, w, n, k, x, m, y, nthreads, aq, dot, gemm);
}
