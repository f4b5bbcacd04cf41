#define _POSIX_C_SOURCE 200809L
/* Conv2d = im2col fused with activation quantization + the dispatched GEMM kernel, chunked over
 * output rows so memory stays bounded.
 *
 * For batch b, group g and output rows [r0, r1): act[m] (m = (r1-r0)*out_w) holds, for each output
 * pixel, its (c, i, j) patch of x (zero outside the image and in columns k_real..Kp) in the weights'
 * activation format, so out[m, Og] = act . W_g^T is the conv output in NHWC order; it is transposed
 * into y[b, g*Og:, r0:r1, :]. The tile grid depends on (m, Og, Kp) only: thread count never changes bits.
 * ref: ONNX Conv operator (pads = [top, left, bottom, right], dilations, group). */
#include <stdlib.h>
#include <string.h>
#include "conv2d.h"

typedef struct {
    const ea_conv2d_geom *g;
    const float *xb;     /* x[b, g*Cg:...] : [Cg, H, W] */
    float *rowbuf;       /* one float patch row (k_padded) per thread, L1-resident */
    char *act;           /* [rows*out_w] activation rows in the weights' activation format */
    size_t act_row;      /* bytes of one activation row */
    ea_quantize_fn quant; /* NULL: the activation format is f32, rows are stored as floats */
    int64_t r0, cg;
    float x_scale;
} im2col_job;

/* Gather the (c, i, j) patch of output pixel (oy, ox) into dst[k_padded] (zeros outside the image
 * and in the padding columns). Interior pixels take a branch-free path. */
static void patch(const im2col_job *j, int64_t oy, int64_t ox, float *dst) {
    const ea_conv2d_geom *g = j->g;
    const int64_t hw = g->in_h * g->in_w;
    const int64_t y0 = oy * g->sh - g->pad_top, x0 = ox * g->sw - g->pad_left;
    const float s = j->x_scale;
    int64_t col = 0;
    if (y0 >= 0 && y0 + (g->kh - 1) * g->dh < g->in_h && x0 >= 0 && x0 + (g->kw - 1) * g->dw < g->in_w) {
        const float *base = j->xb + y0 * g->in_w + x0;
        const int64_t rstep = g->dh * g->in_w;
        if (g->kw == 3 && g->dw == 1) {  /* the common 3x3 conv: unrolled taps */
            for (int64_t c = 0; c < j->cg; c++, base += hw)
                for (int64_t i = 0; i < g->kh; i++, col += 3) {
                    const float *src = base + i * rstep;
                    dst[col] = src[0] * s;
                    dst[col + 1] = src[1] * s;
                    dst[col + 2] = src[2] * s;
                }
        } else if (g->kh == 1 && g->kw == 1) {  /* pointwise: one value per channel */
            for (int64_t c = 0; c < j->cg; c++) dst[col++] = base[c * hw] * s;
        } else {
            for (int64_t c = 0; c < j->cg; c++, base += hw)
                for (int64_t i = 0; i < g->kh; i++) {
                    const float *src = base + i * rstep;
                    for (int64_t q = 0; q < g->kw; q++) dst[col++] = src[q * g->dw] * s;
                }
        }
    } else {
        for (int64_t c = 0; c < j->cg; c++) {
            const float *plane = j->xb + c * hw;
            for (int64_t i = 0; i < g->kh; i++) {
                const int64_t iy = y0 + i * g->dh;
                const int inside_y = iy >= 0 && iy < g->in_h;
                for (int64_t q = 0; q < g->kw; q++, col++) {
                    const int64_t ix = x0 + q * g->dw;
                    dst[col] = (inside_y && ix >= 0 && ix < g->in_w) ? plane[iy * g->in_w + ix] * s : 0.0f;
                }
            }
        }
    }
    for (; col < g->k_padded; col++) dst[col] = 0.0f;
}

/* one task = one output row of the chunk: patches are quantized to activation blocks as they are
 * gathered, so the float column matrix never reaches memory */
static void im2col_row(void *ctx, int64_t t, int thread) {
    const im2col_job *j = (const im2col_job *)ctx;
    const ea_conv2d_geom *g = j->g;
    for (int64_t ox = 0; ox < g->out_w; ox++) {
        char *dst = j->act + (size_t)(t * g->out_w + ox) * j->act_row;
        if (!j->quant) {
            patch(j, j->r0 + t, ox, (float *)dst);
            continue;
        }
        float *row = j->rowbuf + (size_t)thread * (size_t)g->k_padded;
        patch(j, j->r0 + t, ox, row);
        j->quant(row, dst, g->k_padded);
    }
}

/* out[m, n] = act[m, :] . W[n, :] over a fixed tile grid (a function of m, n, k only) */
typedef struct {
    int64_t k, m, n, mb, nb, mblocks;
    const char *w, *a;
    size_t w_row, a_row;
    float *out;
    ea_gemm_fn gemm;
    ea_dot_fn dot;
} gemm_job;

static void gemm_tile(void *ctx, int64_t t, int thread) {
    (void)thread;
    const gemm_job *j = (const gemm_job *)ctx;
    const int64_t j0 = (t / j->mblocks) * j->nb, i0 = (t % j->mblocks) * j->mb;
    const int64_t nb = j->n - j0 < j->nb ? j->n - j0 : j->nb, mb = j->m - i0 < j->mb ? j->m - i0 : j->mb;
    const char *w = j->w + (size_t)j0 * j->w_row, *a = j->a + (size_t)i0 * j->a_row;
    float *y = j->out + i0 * j->n + j0;
    if (j->gemm) {
        j->gemm(j->k, mb, nb, y, j->n, w, j->w_row, a, j->a_row);
        return;
    }
    for (int64_t i = 0; i < mb; i++)
        for (int64_t c = 0; c < nb; c++) j->dot(j->k, &y[i * j->n + c], w + (size_t)c * j->w_row, a + (size_t)i * j->a_row);
}

int ea_conv2d(ea_type wtype, const void *w, const float *x, const float *bias, const float *residual, float *y,
              const ea_conv2d_geom *g, float x_scale, float y_scale, int64_t chunk_bytes, int nthreads) {
    const ea_type_traits *tr = ea_type_info(wtype);
    if (!tr || !tr->is_weight) return EA_ERR_TYPE;
    if (!g || g->group <= 0 || g->in_c % g->group || g->out_c % g->group) return EA_ERR_SHAPE;
    const int64_t cg = g->in_c / g->group, og = g->out_c / g->group;
    if (cg * g->kh * g->kw != g->k_real || g->k_padded < g->k_real || g->out_h <= 0 || g->out_w <= 0)
        return EA_ERR_SHAPE;
    const size_t wrow = ea_row_size(wtype, g->k_padded);
    if (wrow == 0) return EA_ERR_SHAPE;
    /* the same kernels ea_matmul would pick: activation quantizer, and gemm if it is at least as
     * specialised as the best dot */
    const ea_variant *aq = tr->act_type == EA_F32 ? NULL : ea_dispatch(EA_OP_QUANTIZE, tr->act_type);
    const ea_variant *dot = ea_dispatch(EA_OP_DOT, wtype), *gemm = ea_dispatch(EA_OP_GEMM, wtype);
    if (gemm && dot && ea_isa_rank(gemm->isa) < ea_isa_rank(dot->isa)) gemm = NULL;
    if ((!dot && !gemm) || (tr->act_type != EA_F32 && !aq)) return EA_ERR_NOKERNEL;
    const size_t arow = tr->act_type == EA_F32 ? (size_t)g->k_padded * sizeof(float) : ea_row_size(tr->act_type, g->k_padded);
    if (arow == 0) return EA_ERR_SHAPE;
    if (nthreads <= 0) nthreads = ea_get_num_threads();
    if (nthreads > EA_MAX_THREADS) nthreads = EA_MAX_THREADS;
    /* small convs: waking the pool costs more than it gives (and results do not depend on it) */
    if ((double)g->batch * (double)g->out_h * (double)g->out_w * (double)g->out_c * (double)g->k_padded < 4e6)
        nthreads = 1;
    if (chunk_bytes <= 0) chunk_bytes = 16 << 20;
    int64_t rows = chunk_bytes / (g->out_w * (int64_t)(arow + og * sizeof(float)));
    if (rows < 1) rows = 1;
    if (rows > g->out_h) rows = g->out_h;
    char *act = NULL;
    float *out = NULL, *rowbuf = NULL;
    int rc = EA_OK;
    if (posix_memalign((void **)&act, 64, (size_t)(rows * g->out_w) * arow + 64) != 0 ||
        posix_memalign((void **)&out, 64, (size_t)(rows * g->out_w * og) * sizeof(float) + 64) != 0 ||
        posix_memalign((void **)&rowbuf, 64, (size_t)nthreads * (size_t)g->k_padded * sizeof(float) + 64) != 0) {
        rc = EA_ERR_NOMEM;
    }
    int64_t nb = (int64_t)(32768 / wrow);  /* ~32 KB of weights per tile, as the matmul driver */
    if (nb < 4) nb = 4;
    if (nb > 256) nb = 256;
    nb &= ~(int64_t)3;
    const int64_t plane = g->out_h * g->out_w;
    for (int64_t b = 0; b < g->batch && rc == EA_OK; b++) {
        for (int64_t gi = 0; gi < g->group; gi++) {
            im2col_job j = {g, x + (b * g->in_c + gi * cg) * g->in_h * g->in_w, rowbuf, act, arow,
                            aq ? (ea_quantize_fn)aq->fn : NULL, 0, cg, x_scale};
            const char *wg = (const char *)w + (size_t)(gi * og) * wrow;
            for (int64_t r0 = 0; r0 < g->out_h; r0 += rows) {
                const int64_t r1 = r0 + rows < g->out_h ? r0 + rows : g->out_h;
                const int64_t m = (r1 - r0) * g->out_w;
                j.r0 = r0;
                ea_parallel_for(r1 - r0, im2col_row, &j, nthreads);
                gemm_job gj = {g->k_padded, m, og, m < 64 ? m : 64, nb, 0, wg, act, wrow, arow, out,
                               gemm ? (ea_gemm_fn)gemm->fn : NULL, dot ? (ea_dot_fn)dot->fn : NULL};
                gj.mblocks = (m + gj.mb - 1) / gj.mb;
                const double macs = (double)m * (double)og * (double)g->k_padded;
                ea_parallel_for(((og + nb - 1) / nb) * gj.mblocks, gemm_tile, &gj, macs < 32768 ? 1 : nthreads);
                /* NHWC chunk -> NCHW: y[b, gi*og + o, r0.., :] */
                const int64_t ybase = (b * g->out_c + gi * og) * plane + r0 * g->out_w;
                for (int64_t p0 = 0; p0 < m; p0 += 16) {  /* 16-pixel blocks keep out[] reads in cache */
                    const int64_t p1 = p0 + 16 < m ? p0 + 16 : m;
                    for (int64_t o = 0; o < og; o++) {
                        const float bo = bias ? bias[gi * og + o] : 0.0f;
                        float *dst = y + ybase + o * plane;
                        for (int64_t p = p0; p < p1; p++) dst[p] = out[p * og + o] * y_scale + bo;
                        if (residual) /* after the bias, rounded: a separate Add's bits */
                            for (int64_t p = p0; p < p1; p++) dst[p] += residual[ybase + o * plane + p];
                    }
                }
            }
        }
    }
    free(act);
    free(out);
    free(rowbuf);
    return rc;
}
