#define _POSIX_C_SOURCE 200809L
/* Conv2d = im2col + ea_matmul, chunked over output rows so memory stays bounded.
 *
 * For batch b, group g and output rows [r0, r1): cols[m, Kp] with m = (r1-r0)*out_w holds, for each
 * output pixel, the (c, i, j) patch of x (zero outside the image and in columns k_real..Kp), so
 * out[m, Og] = cols @ W_g^T is the conv output in NHWC order; it is transposed into y[b, g*Og:, r0:r1, :].
 * ref: ONNX Conv operator (pads = [top, left, bottom, right], dilations, group). */
#include <stdlib.h>
#include <string.h>
#include "conv2d.h"

typedef struct {
    const ea_conv2d_geom *g;
    const float *xb;     /* x[b, g*Cg:...] : [Cg, H, W] */
    float *cols;         /* [rows*out_w, Kp] */
    int64_t r0, cg;
    float x_scale;
} im2col_job;

/* one task = one output row of the chunk. Interior pixels (every tap inside the image) take a
 * branch-free path; the border ones check each tap. */
static void im2col_row(void *ctx, int64_t t, int thread) {
    (void)thread;
    const im2col_job *j = (const im2col_job *)ctx;
    const ea_conv2d_geom *g = j->g;
    const int64_t oy = j->r0 + t, kp = g->k_padded, hw = g->in_h * g->in_w;
    const int64_t y0 = oy * g->sh - g->pad_top;
    const int rows_inside = y0 >= 0 && y0 + (g->kh - 1) * g->dh < g->in_h;
    const float s = j->x_scale;
    for (int64_t ox = 0; ox < g->out_w; ox++) {
        float *dst = j->cols + (t * g->out_w + ox) * kp;
        const int64_t x0 = ox * g->sw - g->pad_left;
        int64_t col = 0;
        if (rows_inside && x0 >= 0 && x0 + (g->kw - 1) * g->dw < g->in_w) {
            const float *base = j->xb + y0 * g->in_w + x0;
            for (int64_t c = 0; c < j->cg; c++, base += hw)
                for (int64_t i = 0; i < g->kh; i++) {
                    const float *src = base + i * g->dh * g->in_w;
                    for (int64_t q = 0; q < g->kw; q++) dst[col++] = src[q * g->dw] * s;
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
        for (; col < kp; col++) dst[col] = 0.0f;
    }
}

int ea_conv2d(ea_type wtype, const void *w, const float *x, const float *bias, float *y,
              const ea_conv2d_geom *g, float x_scale, float y_scale, int64_t chunk_bytes, int nthreads) {
    if (!g || g->group <= 0 || g->in_c % g->group || g->out_c % g->group) return EA_ERR_SHAPE;
    const int64_t cg = g->in_c / g->group, og = g->out_c / g->group;
    if (cg * g->kh * g->kw != g->k_real || g->k_padded < g->k_real || g->out_h <= 0 || g->out_w <= 0)
        return EA_ERR_SHAPE;
    const size_t wrow = ea_row_size(wtype, g->k_padded);
    if (wrow == 0) return EA_ERR_SHAPE;
    if (chunk_bytes <= 0) chunk_bytes = 16 << 20;
    int64_t rows = chunk_bytes / (g->out_w * g->k_padded * (int64_t)sizeof(float));
    if (rows < 1) rows = 1;
    if (rows > g->out_h) rows = g->out_h;
    float *cols = NULL, *out = NULL;
    if (posix_memalign((void **)&cols, 64, (size_t)(rows * g->out_w * g->k_padded) * sizeof(float) + 64) != 0)
        return EA_ERR_NOMEM;
    if (posix_memalign((void **)&out, 64, (size_t)(rows * g->out_w * og) * sizeof(float) + 64) != 0) {
        free(cols);
        return EA_ERR_NOMEM;
    }
    const int64_t plane = g->out_h * g->out_w;
    int rc = EA_OK;
    for (int64_t b = 0; b < g->batch && rc == EA_OK; b++) {
        for (int64_t gi = 0; gi < g->group && rc == EA_OK; gi++) {
            im2col_job j = {g, x + (b * g->in_c + gi * cg) * g->in_h * g->in_w, cols, 0, cg, x_scale};
            const char *wg = (const char *)w + (size_t)(gi * og) * wrow;
            for (int64_t r0 = 0; r0 < g->out_h; r0 += rows) {
                const int64_t r1 = r0 + rows < g->out_h ? r0 + rows : g->out_h;
                const int64_t m = (r1 - r0) * g->out_w;
                j.r0 = r0;
                ea_parallel_for(r1 - r0, im2col_row, &j, nthreads);
                rc = ea_matmul(wtype, wg, og, g->k_padded, cols, m, out, nthreads);  /* out[m, og] */
                if (rc != EA_OK) break;
                /* NHWC chunk -> NCHW: y[b, gi*og + o, r0.., :] */
                for (int64_t o = 0; o < og; o++) {
                    const int64_t oc = gi * og + o;
                    const float bo = bias ? bias[oc] : 0.0f;
                    float *dst = y + (b * g->out_c + oc) * plane + r0 * g->out_w;
                    for (int64_t p = 0; p < m; p++) dst[p] = out[p * og + o] * y_scale + bo;
                }
            }
        }
    }
    free(cols);
    free(out);
    return rc;
}
