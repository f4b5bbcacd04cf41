#define _POSIX_C_SOURCE 200809L
/* Conv2d with (kh, kw, c)-ordered weights over a quantized NHWC copy of the input.
 *
 * Why: the (c, kh, kw) im2col of conv2d.c gathers and quantizes kh*kw floats per input value
 * (9x the feature map for 3x3), which on the terrain UNet cost ~40% of the GEMM time. Here each
 * group's channel count Cg is a multiple of the activation block (32 for q8_0 / q8_1), so
 *   1. the input is transposed to NHWC, scaled and quantized once per call: x[B, C, H, W] ->
 *      xq[B, Hp, Wp, C] in the weights' activation format, zero blocks in the padding border;
 *   2. one output pixel's patch in (kh, kw, c) order is then kh byte runs of kw*Cg channels
 *      (dw == 1, one group) or kh*kw runs of Cg channels, copied as blocks; a 1x1 / stride 1 /
 *      unpadded conv needs no copy at all (the GEMM reads xq's pixel rows);
 *   3. each GEMM tile (mb output pixels x nb output channels) is written straight into NCHW y
 *      with y_scale and the bias while it is in L1, on the thread that computed it (q8_0 weights:
 *      the kernel is called with weights and activations swapped and writes NCHW rows itself).
 * The activation prescale (a power of two putting max|x| at 2**20, 2**10 for q8_1; see
 * ea_act_prescale and edgeai/onnx/ops.py) is computed here too. The tile grid depends on the shapes only: thread count never changes bits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "conv2d.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* max|x| * scale lands in [2**(E-1), 2**E]: E = 20 keeps q8_0's fp16 d = max|block| / 127 normal for
 * blocks down to ~1e-8 of the tensor's max and below 65504 (2**20 / 127 = 8257). q8_1 also stores
 * s = d * sum(qs), up to 32 * max|block| = 2**25 at E = 20: fp16 inf wherever |sum(qs)| > ~8, and
 * inf / NaN in the q4_1 / q5_1 outputs (48 of 192 in a unit-scale 4 x 64 @ 64 x 48 MatMul). E = 10
 * keeps s <= 2**15. q8_K's d is a float32: E = 20 as well. */
#define ACT_TARGET_EXP 20
#define ACT_TARGET_EXP_Q8_1 10
#define AMAX_CHUNK 65536           /* floats per absmax task */
#define TILE_W_BYTES (256 * 1024)  /* weight bytes per GEMM tile (L2) */
#define PAR_MACS 1e6               /* below this many multiply-adds a conv runs on one thread */

/* ---- absmax: the activation prescale ------------------------------------------------------------ */

typedef struct {
    const float *x;
    int64_t n;
    uint32_t *part; /* per task: max of (bits & 0x7fffffff); >= 0x7f800000 means Inf/NaN seen */
} amax_job;

/* max(m, |x[i..n)| bits): the scalar end of the loops below */
static inline uint32_t absmax_tail(const float *x, int64_t i, int64_t n, uint32_t m) {
    for (; i < n; i++) {
        uint32_t u;
        memcpy(&u, x + i, 4);
        u &= 0x7fffffffu;
        m = u > m ? u : m;
    }
    return m;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define EA_ABSMAX_AVX2 1
/* The same maximum with AVX2's vpmaxud (the SSE2 loop below needs 5 ops per 4 floats for want of
 * a 32-bit max): the prescale pass reads every conv input once. Single-conv harness (32 x 128 x 128,
 * 3x3, q8_0, 1 thread, perf samples relative to the GEMM's): 11.4% -> 8.7%, i.e. from ~5 to ~20 GB/s,
 * the cache's read rate. Chosen at run time (CPU and dispatch cap), so the baseline build stays
 * baseline; a maximum is exact, so both loops give the same bits. */
__attribute__((target("avx2"))) static uint32_t absmax_bits_avx2(const float *x, int64_t n) {
    const __m256i mask = _mm256_set1_epi32(0x7fffffff);
    __m256i m0 = _mm256_setzero_si256(), m1 = m0, m2 = m0, m3 = m0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        m0 = _mm256_max_epu32(m0, _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(x + i)), mask));
        m1 = _mm256_max_epu32(m1, _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(x + i + 8)), mask));
        m2 = _mm256_max_epu32(m2, _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(x + i + 16)), mask));
        m3 = _mm256_max_epu32(m3, _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(x + i + 24)), mask));
    }
    m0 = _mm256_max_epu32(_mm256_max_epu32(m0, m1), _mm256_max_epu32(m2, m3));
    uint32_t lanes[8], m = 0;
    _mm256_storeu_si256((__m256i *)lanes, m0);
    for (int l = 0; l < 8; l++) m = lanes[l] > m ? lanes[l] : m;
    return absmax_tail(x, i, n, m);
}
#endif

static uint32_t absmax_bits(const float *x, int64_t n) {
    uint32_t m = 0;
    int64_t i = 0;
#if EA_ABSMAX_AVX2
    /* under the dispatch cap (EDGEAI_ISA, ea_set_isa_cap) like the kernels: both answers are cached */
    if (ea_isa_enabled(EA_ISA_AVX2))
        return absmax_bits_avx2(x, n);
#endif
#if defined(__SSE2__)
    const __m128i mask = _mm_set1_epi32(0x7fffffff);
    __m128i m0 = _mm_setzero_si128(), m1 = _mm_setzero_si128();
    /* |x| bits are non-negative int32s, so a signed compare orders them as the floats (NaN above Inf) */
    for (; i + 8 <= n; i += 8) {
        __m128i a = _mm_and_si128(_mm_loadu_si128((const __m128i *)(x + i)), mask);
        __m128i b = _mm_and_si128(_mm_loadu_si128((const __m128i *)(x + i + 4)), mask);
        __m128i ga = _mm_cmpgt_epi32(a, m0), gb = _mm_cmpgt_epi32(b, m1);
        m0 = _mm_or_si128(_mm_and_si128(ga, a), _mm_andnot_si128(ga, m0));
        m1 = _mm_or_si128(_mm_and_si128(gb, b), _mm_andnot_si128(gb, m1));
    }
    uint32_t lanes[8];
    _mm_storeu_si128((__m128i *)lanes, m0);
    _mm_storeu_si128((__m128i *)(lanes + 4), m1);
    for (int l = 0; l < 8; l++) m = lanes[l] > m ? lanes[l] : m;
#endif
    return absmax_tail(x, i, n, m);
}

static void amax_task(void *ctx, int64_t t, int thread) {
    (void)thread;
    const amax_job *j = (const amax_job *)ctx;
    const int64_t i0 = t * AMAX_CHUNK, len = j->n - i0 < AMAX_CHUNK ? j->n - i0 : AMAX_CHUNK;
    j->part[t] = absmax_bits(j->x + i0, len);
}

int ea_act_prescale(const float *x, int64_t n, ea_type at, int nthreads, float *scale, float *unscale) {
    *scale = *unscale = 1.0f;
    if (n <= 0) return EA_OK;
    const int64_t tasks = (n + AMAX_CHUNK - 1) / AMAX_CHUNK;
    uint32_t one[1], *part = tasks == 1 ? one : (uint32_t *)malloc((size_t)tasks * sizeof(uint32_t));
    if (!part) return EA_ERR_NOMEM;
    amax_job j = {x, n, part};
    ea_parallel_for(tasks, amax_task, &j, tasks >= 4 ? nthreads : 1);
    uint32_t m = 0;
    for (int64_t t = 0; t < tasks; t++) m = part[t] > m ? part[t] : m;
    if (part != one) free(part);
    if (m == 0 || m >= 0x7f800000u) return EA_OK; /* all zero, or Inf / NaN: leave the values alone */
    float amax;
    memcpy(&amax, &m, 4);
    int ex;
    const float fr = frexpf(amax, &ex);        /* amax = fr * 2**ex, fr in [0.5, 1) */
    const int target = at == EA_Q8_1 ? ACT_TARGET_EXP_Q8_1 : ACT_TARGET_EXP;
    int e = target - (fr == 0.5f ? ex - 1 : ex); /* target - ceil(log2(amax)) */
    if (e > 126) e = 126;                      /* keep both 2**e and 2**-e normal floats */
    if (e < -126) e = -126;
    *scale = ldexpf(1.0f, e);
    *unscale = ldexpf(1.0f, -e);
    return EA_OK;
}

/* ---- 1. x[B, C, H, W] -> xq[B, Hp, Wp, C] in the activation format --------------------------------- */

typedef struct {
    const ea_conv2d_geom *g;
    const float *x;
    char *xq;
    size_t pix;            /* bytes of one pixel's C channels in xq */
    int64_t hp, wp;
    float scale;
    ea_quantize_fn quant;  /* NULL: f32 activations, xq holds floats */
    float *tbuf;           /* per thread: in_w * in_c floats */
} pack_job;

/* dst[j * ds + i] = src[i * ss + j] * s, plus b[j] (0 when b is NULL) if add, for i < rows, j < cols:
 * the input's NCHW -> NHWC rows (no add) and the [pixels, channels] -> NCHW conv epilogue (add).
 * SSE2: 4 x 4 transposes; else 8 columns per pass, so that the 8 values read from a source row
 * share a cache line; the last columns one at a time. A multiply then an add, each rounded: every
 * path gives the same bits. */
static void transpose_scaled(const float *src, int64_t ss, int64_t rows, int64_t cols, float *dst, int64_t ds,
                             float s, int add, const float *b) {
    int64_t j0 = 0;
#if defined(__SSE2__)
    const __m128 vs = _mm_set1_ps(s);
    for (; j0 + 4 <= cols; j0 += 4) {
        const __m128 vb = b ? _mm_loadu_ps(b + j0) : _mm_setzero_ps();
        float *d = dst + j0 * ds;
        int64_t i = 0;
        for (; i + 4 <= rows; i += 4) {
            __m128 r0 = _mm_mul_ps(_mm_loadu_ps(src + (i + 0) * ss + j0), vs);
            __m128 r1 = _mm_mul_ps(_mm_loadu_ps(src + (i + 1) * ss + j0), vs);
            __m128 r2 = _mm_mul_ps(_mm_loadu_ps(src + (i + 2) * ss + j0), vs);
            __m128 r3 = _mm_mul_ps(_mm_loadu_ps(src + (i + 3) * ss + j0), vs);
            if (add) {
                r0 = _mm_add_ps(r0, vb);
                r1 = _mm_add_ps(r1, vb);
                r2 = _mm_add_ps(r2, vb);
                r3 = _mm_add_ps(r3, vb);
            }
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            _mm_storeu_ps(d + i, r0);
            _mm_storeu_ps(d + ds + i, r1);
            _mm_storeu_ps(d + 2 * ds + i, r2);
            _mm_storeu_ps(d + 3 * ds + i, r3);
        }
        for (; i < rows; i++)
            for (int q = 0; q < 4; q++) {
                const float v = src[i * ss + j0 + q] * s;
                d[q * ds + i] = add ? v + (b ? b[j0 + q] : 0.0f) : v;
            }
    }
#endif
    for (; j0 + 8 <= cols; j0 += 8) {
        float bo[8];
        for (int q = 0; q < 8; q++) bo[q] = b ? b[j0 + q] : 0.0f;
        float *d = dst + j0 * ds;
        for (int64_t i = 0; i < rows; i++) {
            const float *r = src + i * ss + j0;
            for (int q = 0; q < 8; q++) d[q * ds + i] = add ? r[q] * s + bo[q] : r[q] * s;
        }
    }
    for (; j0 < cols; j0++) {
        const float bo = b ? b[j0] : 0.0f;
        for (int64_t i = 0; i < rows; i++) dst[j0 * ds + i] = add ? src[i * ss + j0] * s + bo : src[i * ss + j0] * s;
    }
}

#if EA_ABSMAX_AVX2
/* The pack's NCHW -> NHWC rows on AVX2: dst[j * ds + i] = src[i * ss + j] * s, 8 x 8 blocks, the
 * source walked 8 channel rows at a time from start to end. Why: transpose_scaled's column-major
 * walk reads all C channel rows (H * W floats apart: 64 KiB at 128 x 128, one L1 and one L2 set)
 * for every 4 pixels, so each 64-byte line came back from L3 four times; perf had it at 5.6% of a
 * terrain q8_0 step. Same products, same bits as transpose_scaled (a multiply, no add). */
__attribute__((target("avx2"))) static void pack_transpose_avx2(const float *src, int64_t ss, int64_t rows,
                                                                 int64_t cols, float *dst, int64_t ds, float s) {
    const __m256 vs = _mm256_set1_ps(s);
    int64_t i0 = 0;
    for (; i0 + 8 <= rows; i0 += 8) {
        const float *r = src + i0 * ss;
        int64_t j = 0;
        for (; j + 8 <= cols; j += 8) {
            __m256 v[8], t[8];
            for (int q = 0; q < 8; q++) v[q] = _mm256_mul_ps(_mm256_loadu_ps(r + q * ss + j), vs);
            /* 8 x 8 transpose: pairs, quads, then 128-bit halves */
            for (int q = 0; q < 8; q += 2) {
                t[q] = _mm256_unpacklo_ps(v[q], v[q + 1]);
                t[q + 1] = _mm256_unpackhi_ps(v[q], v[q + 1]);
            }
            for (int q = 0; q < 8; q += 4) {
                v[q] = _mm256_shuffle_ps(t[q], t[q + 2], 0x44);
                v[q + 1] = _mm256_shuffle_ps(t[q], t[q + 2], 0xee);
                v[q + 2] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0x44);
                v[q + 3] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0xee);
            }
            /* v[0..3]: columns 0-3 of rows 0-3 (low) / 4-7 (high) of rows 0-3; v[4..7] rows 4-7 */
            for (int q = 0; q < 4; q++) {
                _mm256_storeu_ps(dst + (j + q) * ds + i0, _mm256_permute2f128_ps(v[q], v[q + 4], 0x20));
                _mm256_storeu_ps(dst + (j + q + 4) * ds + i0, _mm256_permute2f128_ps(v[q], v[q + 4], 0x31));
            }
        }
        for (; j < cols; j++)
            for (int q = 0; q < 8; q++) dst[j * ds + i0 + q] = r[q * ss + j] * s;
    }
    for (; i0 < rows; i0++)
        for (int64_t j = 0; j < cols; j++) dst[j * ds + i0] = src[i0 * ss + j] * s;
}
#endif

/* the pack's transpose: the AVX2 walk above where it may run (CPU and dispatch cap), else
 * transpose_scaled */
static void pack_transpose(const float *src, int64_t ss, int64_t rows, int64_t cols, float *dst, int64_t ds,
                           float s) {
#if EA_ABSMAX_AVX2
    if (ea_isa_enabled(EA_ISA_AVX2)) {
        pack_transpose_avx2(src, ss, rows, cols, dst, ds, s);
        return;
    }
#endif
    transpose_scaled(src, ss, rows, cols, dst, ds, s, 0, NULL);
}

/* one task = one padded row (b, yp) of xq */
static void pack_row(void *ctx, int64_t t, int thread) {
    const pack_job *j = (const pack_job *)ctx;
    const ea_conv2d_geom *g = j->g;
    const int64_t b = t / j->hp, yp = t % j->hp, iy = yp - g->pad_top;
    char *row = j->xq + (size_t)t * (size_t)j->wp * j->pix;
    if (iy < 0 || iy >= g->in_h) {
        memset(row, 0, (size_t)j->wp * j->pix);
        return;
    }
    const size_t left = (size_t)g->pad_left * j->pix, body = (size_t)g->in_w * j->pix;
    memset(row, 0, left);
    memset(row + left + body, 0, (size_t)(j->wp - g->pad_left - g->in_w) * j->pix);
    const int64_t plane = g->in_h * g->in_w;
    const float *src = j->x + b * g->in_c * plane + iy * g->in_w;
    if (!j->quant) {
        pack_transpose(src, plane, g->in_c, g->in_w, (float *)(row + left), g->in_c, j->scale);
        return;
    }
    float *tb = j->tbuf + (size_t)thread * (size_t)(g->in_w * g->in_c);
    pack_transpose(src, plane, g->in_c, g->in_w, tb, g->in_c, j->scale);
    /* C is a multiple of the block: the row's blocks never straddle two pixels */
    j->quant(tb, row + left, g->in_w * g->in_c);
}

/* ---- 2 + 3. patch rows, GEMM tile, NCHW epilogue ------------------------------------------------------ */

/* dst[i] = src[i] * s + b: a multiply then an add, each rounded (no FMA), so every path gives the
 * same bits. gcc -O2 leaves the plain loop scalar, and on the terrain UNet this loop (writing every
 * q8_0 conv output) was ~7% of a denoising step on x86. (ARM keeps the scalar loop: no test here
 * runs the conv path under emulation.) */
static void scale_bias(float *dst, const float *src, int64_t n, float s, float b) {
    int64_t i = 0;
#if defined(__SSE2__)
    const __m128 vs = _mm_set1_ps(s), vb = _mm_set1_ps(b);
    for (; i + 8 <= n; i += 8) {
        _mm_storeu_ps(dst + i, _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(src + i), vs), vb));
        _mm_storeu_ps(dst + i + 4, _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(src + i + 4), vs), vb));
    }
#endif
    for (; i < n; i++) dst[i] = src[i] * s + b;
}

typedef struct {
    const ea_conv2d_geom *g;
    const char *xq, *w;
    size_t pix, cgb, arow, wrow; /* bytes: pixel (all C), one group's channels, patch row, weight row */
    int64_t hp, wp, og, m_img;   /* m_img = out_h * out_w */
    int64_t mb, nb, mtiles, ntiles;
    int direct;                  /* 1x1, stride 1, no padding: the GEMM reads xq's rows in place */
    int swap;                    /* q8_0 weights: the GEMM writes NCHW rows itself (see conv_tile) */
    const float *bias;
    const float *res;            /* NULL, or a residual shaped like y, added last */
    float *y, y_scale;
    char *abuf;                  /* per thread: mb patch rows */
    float *obuf;                 /* per thread: mb x nb products */
    ea_gemm_fn gemm;
    ea_dot_fn dot;
} conv_job;

/* dst[i] += r[i]: the residual Add fused into the conv, on the tile while it is in cache; the same
 * rounding as the separate Add (y is rounded first, then y + r) */
static void add_rows(float *dst, const float *r, int64_t n) {
    int64_t i = 0;
#if defined(__SSE2__)
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(dst + i, _mm_add_ps(_mm_loadu_ps(dst + i), _mm_loadu_ps(r + i)));
#endif
    for (; i < n; i++) dst[i] += r[i];
}

static void conv_tile(void *ctx, int64_t t, int thread) {
    const conv_job *j = (const conv_job *)ctx;
    const ea_conv2d_geom *g = j->g;
    const int64_t per_plane = j->mtiles * j->ntiles;
    const int64_t plane = t / per_plane, r = t % per_plane;
    const int64_t b = plane / g->group, gi = plane % g->group;
    const int64_t p0 = (r / j->ntiles) * j->mb, j0 = (r % j->ntiles) * j->nb;
    const int64_t m = j->m_img - p0 < j->mb ? j->m_img - p0 : j->mb;
    const int64_t n = j->og - j0 < j->nb ? j->og - j0 : j->nb;
    const char *img = j->xq + (size_t)(b * j->hp * j->wp) * j->pix + (size_t)gi * j->cgb;
    const char *a;
    size_t as;
    if (j->direct) {
        a = img + (size_t)p0 * j->pix;
        as = j->pix;
    } else {
        char *abuf = j->abuf + (size_t)thread * (size_t)j->mb * j->arow;
        const size_t run = (size_t)g->kw * j->cgb;       /* one kernel row: kw pixels' channels */
        const size_t rstep = (size_t)(g->dh * j->wp) * j->pix;
        const int whole_rows = g->group == 1 && g->dw == 1; /* kw neighbouring pixels are contiguous */
        int64_t oy = p0 / g->out_w, ox = p0 % g->out_w;
        for (int64_t p = 0; p < m; p++) {
            const char *src = img + (size_t)(oy * g->sh * j->wp + ox * g->sw) * j->pix;
            char *dst = abuf + (size_t)p * j->arow;
            if (whole_rows) {
                for (int64_t i = 0; i < g->kh; i++, dst += run, src += rstep) memcpy(dst, src, run);
            } else {
                for (int64_t i = 0; i < g->kh; i++, src += rstep)
                    for (int64_t q = 0; q < g->kw; q++, dst += j->cgb)
                        memcpy(dst, src + (size_t)(q * g->dw) * j->pix, j->cgb);
            }
            if (++ox == g->out_w) {
                ox = 0;
                oy++;
            }
        }
        a = abuf;
        as = j->arow;
    }
    const char *w = j->w + (size_t)(gi * j->og + j0) * j->wrow;
    float *yb = j->y + ((b * g->out_c + gi * j->og + j0) * j->m_img + p0);
    const float *bias = j->bias ? j->bias + gi * j->og + j0 : NULL;
    const float ys = j->y_scale;
    const int64_t ld = j->m_img, k = g->k_padded;
    float *o = j->obuf + (size_t)thread * (size_t)(j->mb * j->nb);
    if (j->swap) {
        /* q8_0 x q8_0 products are symmetric, so the weight rows can play the activation rows: the
         * kernel then writes s[c*ld + p], y's NCHW rows, and only scale and bias remain */
        /* into the thread's [n channels, m pixels] buffer first: y's rows are m_img floats apart
         * (64 KiB at 128x128), so the kernel's scattered stores into y would all fall in one L1
         * set and evict each other */
        j->gemm(k, n, m, o, m, a, as, w, j->wrow);
        for (int64_t c = 0; c < n; c++) {
            scale_bias(yb + c * ld, o + c * m, m, ys, bias ? bias[c] : 0.0f);
            if (j->res) add_rows(yb + c * ld, j->res + (yb - j->y) + c * ld, m);
        }
        return;
    }
    if (j->gemm) {
        j->gemm(k, m, n, o, n, w, j->wrow, a, as);
    } else {
        for (int64_t i = 0; i < m; i++)
            for (int64_t c = 0; c < n; c++) j->dot(k, &o[i * n + c], w + (size_t)c * j->wrow, a + (size_t)i * as);
    }
    /* [m pixels, n channels] -> y[b, gi*og + j0 + c, p0 .. p0+m) */
    transpose_scaled(o, n, m, n, yb, ld, ys, 1, bias);
    if (j->res)
        for (int64_t c = 0; c < n; c++) add_rows(yb + c * ld, j->res + (yb - j->y) + c * ld, m);
}

/* The tiles go out as CONV_CHUNKS_PER_THREAD runs of consecutive tiles per thread, not one by
 * one: neighbouring tiles read overlapping input rows (a 3x3 conv's 128-pixel
 * tiles share 2 of their 3 rows), which then stay in the core's cache. Terrain UNet, q8_0, 2 threads,
 * a 3-session script (float32, q8_0 twice) run 7 times per build, alternating: 0.998-1.040x of float32
 * ONNX Runtime tile by tile, 0.968-1.004x in 4 runs per thread (0.976-0.994x in one run per thread).
 * bench_diffusion's head to head, 4 runs per build, did not separate the two (1.01-1.05x vs
 * 0.99-1.04x): the gain is within that bench's noise. Which thread runs a tile never changes its bits. */
#define CONV_CHUNKS_PER_THREAD 4

typedef struct {
    conv_job *cj;
    int64_t ntiles, per; /* tiles in all, tiles per run */
} chunk_job;

static void conv_chunk(void *ctx, int64_t t, int thread) {
    const chunk_job *c = (const chunk_job *)ctx;
    const int64_t t0 = t * c->per, t1 = t0 + c->per < c->ntiles ? t0 + c->per : c->ntiles;
    for (int64_t i = t0; i < t1; i++) conv_tile(c->cj, i, thread);
}

int ea_conv2d_nhwc(ea_type wtype, const void *w, const float *x, const float *bias, const float *residual,
                   float *y, const ea_conv2d_geom *g, int nthreads) {
    const ea_type_traits *tr = ea_type_info(wtype);
    if (!tr || !tr->is_weight) return EA_ERR_TYPE;
    if (!g || g->group <= 0 || g->in_c % g->group || g->out_c % g->group || g->batch <= 0) return EA_ERR_SHAPE;
    if (g->pad_top < 0 || g->pad_left < 0 || g->kh <= 0 || g->kw <= 0 || g->sh <= 0 || g->sw <= 0 || g->dh <= 0 ||
        g->dw <= 0 || g->out_h <= 0 || g->out_w <= 0 || g->in_h <= 0 || g->in_w <= 0)
        return EA_ERR_SHAPE;
    const int64_t cg = g->in_c / g->group, og = g->out_c / g->group;
    const ea_type at = tr->act_type;
    const ea_type_traits *atr = ea_type_info(at);
    /* the layout's premise: a group's channels are whole activation blocks, K needs no padding */
    if (!atr || cg % atr->block_size || cg * g->kh * g->kw != g->k_real || g->k_padded != g->k_real)
        return EA_ERR_SHAPE;
    /* the last tap of the last output pixel must lie inside the padded image */
    const int64_t need_h = (g->out_h - 1) * g->sh + (g->kh - 1) * g->dh + 1;
    const int64_t need_w = (g->out_w - 1) * g->sw + (g->kw - 1) * g->dw + 1;
    const int64_t hp = need_h > g->pad_top + g->in_h ? need_h : g->pad_top + g->in_h;
    const int64_t wp = need_w > g->pad_left + g->in_w ? need_w : g->pad_left + g->in_w;
    const size_t wrow = ea_row_size(wtype, g->k_padded);
    const size_t cgb = at == EA_F32 ? (size_t)cg * sizeof(float) : ea_row_size(at, cg);
    const size_t pix = cgb * (size_t)g->group;
    if (wrow == 0 || cgb == 0) return EA_ERR_SHAPE;
    const ea_variant *aq = at == EA_F32 ? NULL : ea_dispatch(EA_OP_QUANTIZE, at);
    const ea_variant *dot = ea_dispatch(EA_OP_DOT, wtype), *gemm = ea_dispatch(EA_OP_GEMM, wtype);
    if (gemm && dot && ea_isa_rank(gemm->isa) < ea_isa_rank(dot->isa)) gemm = NULL;
    if ((!dot && !gemm) || (at != EA_F32 && !aq)) return EA_ERR_NOKERNEL;
    if (nthreads <= 0) nthreads = ea_get_num_threads();
    if (nthreads > EA_MAX_THREADS) nthreads = EA_MAX_THREADS;
    const int64_t m_img = g->out_h * g->out_w;
    if ((double)g->batch * (double)m_img * (double)g->out_c * (double)g->k_real < PAR_MACS) nthreads = 1;

    /* tile grid, from the shapes alone: 64 pixels x all channels of a group (128 pixels for <= 32
     * channels), fewer pixels when one image gives too few tiles, fewer channels when the weights
     * outgrow L2. Each GEMM call repacks its activation rows (the og weight rows on the q8_0 swap
     * path): 128-pixel tiles halve that for the terrain UNet's 32-channel 3x3 convs at 128x128,
     * 5-9% faster there; 256 gained less (the patch rows outgrow L1). */
    const int64_t planes = g->batch * g->group;
    int64_t mb = og <= 32 ? 128 : 64;
    while (mb > 16 && planes * ((m_img + mb - 1) / mb) < 8) mb /= 2;
    if (mb > m_img) mb = m_img;
    int64_t nb = og;
    if ((size_t)og * wrow > TILE_W_BYTES) {
        nb = (int64_t)(TILE_W_BYTES / wrow) & ~(int64_t)15;
        if (nb < 16) nb = 16;
        if (nb > og) nb = og;
    }
    const int direct = g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && hp == g->in_h && wp == g->in_w &&
                       g->pad_top == 0 && g->pad_left == 0;
    const size_t arow = (size_t)(g->kh * g->kw) * cgb;

    float scale = 1.0f, unscale = 1.0f;
    int rc = EA_OK;
    if (at != EA_F32) {
        rc = ea_act_prescale(x, g->batch * g->in_c * g->in_h * g->in_w, at, nthreads, &scale, &unscale);
        if (rc != EA_OK) return rc;
    }
    char *xq = NULL, *abuf = NULL;
    float *obuf = NULL, *tbuf = NULL;
    const size_t xq_bytes = (size_t)(g->batch * hp * wp) * pix;
    if (posix_memalign((void **)&xq, 64, xq_bytes + 64) != 0 ||
        posix_memalign((void **)&obuf, 64, (size_t)nthreads * (size_t)(mb * nb) * sizeof(float) + 64) != 0 ||
        (!direct && posix_memalign((void **)&abuf, 64, (size_t)nthreads * (size_t)mb * arow + 64) != 0) ||
        (aq && posix_memalign((void **)&tbuf, 64, (size_t)nthreads * (size_t)(g->in_w * g->in_c) * sizeof(float) + 64) != 0)) {
        rc = EA_ERR_NOMEM;
    }
    if (rc == EA_OK) {
        pack_job pj = {g, x, xq, pix, hp, wp, scale, aq ? (ea_quantize_fn)aq->fn : NULL, tbuf};
        const double elems = (double)g->batch * (double)g->in_c * (double)g->in_h * (double)g->in_w;
        ea_parallel_for(g->batch * hp, pack_row, &pj, elems < 65536.0 ? 1 : nthreads);
        const int swap = gemm != NULL && wtype == EA_Q8_0 && at == EA_Q8_0;
        conv_job cj = {g, xq, (const char *)w, pix, cgb, arow, wrow, hp, wp, og, m_img, mb, nb,
                       (m_img + mb - 1) / mb, (og + nb - 1) / nb, direct, swap, bias, residual, y, unscale, abuf, obuf,
                       gemm ? (ea_gemm_fn)gemm->fn : NULL, dot ? (ea_dot_fn)dot->fn : NULL};
        const int64_t ntiles = planes * cj.mtiles * cj.ntiles, runs = (int64_t)CONV_CHUNKS_PER_THREAD * nthreads;
        chunk_job ch = {&cj, ntiles, (ntiles + runs - 1) / runs};
        ea_parallel_for((ntiles + ch.per - 1) / ch.per, conv_chunk, &ch, nthreads);
    }
    free(xq);
    free(abuf);
    free(obuf);
    free(tbuf);
    return rc;
}
