/* An independent scalar model of every block format, for the kernel test driver: used in place
 * of a format's __ref when the registry has none (the ref kernels land format by format), so no
 * variant goes unchecked. Semantics are ggml's (GGUF spec, ggml-common.h): the activation
 * quantizers q8_0 / q8_1 / q8_K byte for byte; dots as the format defines them (Q8_1's stored s
 * included); K-quant dots summed in double over the exactly dequantized weights. Weight
 * "quantizers" of the K-quants only make valid test blocks: pseudo-random bytes (seeded by the
 * input) with small positive fp16 scales, since any bit pattern is a valid K-quant block. When the
 * registry has a __ref, the driver uses it, not this. */
#include <math.h>
#include <string.h>
#include "blocks.h"
#include "oracle.h"
#define H2F ea_fp16_to_f32
#define F2H ea_f32_to_fp16

static void or_quantize_f16(const float *x, void *y, int64_t k) { ea_fp16 *o = y; for (int64_t i = 0; i < k; i++) o[i] = F2H(x[i]); }
static void or_dequantize_f16(const void *x, float *y, int64_t k) { const ea_fp16 *o = x; for (int64_t i = 0; i < k; i++) y[i] = H2F(o[i]); }
static void or_dot_f16_f32(int64_t k, float *s, const void *w, const void *a) { const ea_fp16 *o = w; const float *x = a; double t = 0; for (int64_t i = 0; i < k; i++) t += (double)H2F(o[i]) * x[i]; *s = (float)t; }
static void or_quantize_bf16(const float *x, void *y, int64_t k) { ea_bf16 *o = y; for (int64_t i = 0; i < k; i++) o[i] = ea_f32_to_bf16(x[i]); }
static void or_dequantize_bf16(const void *x, float *y, int64_t k) { const ea_bf16 *o = x; for (int64_t i = 0; i < k; i++) y[i] = ea_bf16_to_f32(o[i]); }
static void or_dot_bf16_f32(int64_t k, float *s, const void *w, const void *a) { const ea_bf16 *o = w; const float *x = a; double t = 0; for (int64_t i = 0; i < k; i++) t += (double)ea_bf16_to_f32(o[i]) * x[i]; *s = (float)t; }

static void or_quantize_q8_1(const float *x, void *vy, int64_t k) {
    block_q8_1 *y = vy;
    for (int64_t b = 0; b < k / 32; b++) {
        const float *xb = x + b * 32; float amax = 0;
        for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(xb[i]));
        float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0; int sum = 0;
        y[b].d = F2H(d);
        for (int i = 0; i < 32; i++) { y[b].qs[i] = (int8_t)roundf(xb[i] * id); sum += y[b].qs[i]; }
        y[b].s = F2H(sum * d);
    }
}
static void or_quantize_q4_0(const float *x, void *vy, int64_t k) {
    block_q4_0 *y = vy;
    for (int64_t b = 0; b < k / 32; b++) {
        const float *xb = x + b * 32; float amax = 0, max = 0;
        for (int i = 0; i < 32; i++) if (fabsf(xb[i]) > amax) { amax = fabsf(xb[i]); max = xb[i]; }
        float d = max / -8, id = d ? 1.0f / d : 0; y[b].d = F2H(d);
        for (int j = 0; j < 16; j++) {
            int a = (int)(xb[j] * id + 8.5f), c = (int)(xb[j + 16] * id + 8.5f);
            a = a > 15 ? 15 : a;
            c = c > 15 ? 15 : c;
            y[b].qs[j] = (uint8_t)(a | (c << 4));
        }
    }
}
static void or_dequantize_q4_0(const void *vx, float *y, int64_t k) {
    const block_q4_0 *x = vx;
    for (int64_t b = 0; b < k / 32; b++) { float d = H2F(x[b].d);
        for (int j = 0; j < 16; j++) { y[b*32+j] = ((x[b].qs[j] & 15) - 8) * d; y[b*32+j+16] = ((x[b].qs[j] >> 4) - 8) * d; } }
}
static void or_dot_q4_0_q8_0(int64_t k, float *s, const void *vw, const void *va) {
    const block_q4_0 *w = vw; const block_q8_0 *a = va; float sum = 0;
    for (int64_t b = 0; b < k / 32; b++) { int t = 0;
        for (int j = 0; j < 16; j++) t += ((w[b].qs[j] & 15) - 8) * a[b].qs[j] + ((w[b].qs[j] >> 4) - 8) * a[b].qs[j + 16];
        sum += t * (H2F(w[b].d) * H2F(a[b].d)); }
    *s = sum;
}
static void or_quantize_q4_1(const float *x, void *vy, int64_t k) {
    block_q4_1 *y = vy;
    for (int64_t b = 0; b < k / 32; b++) {
        const float *xb = x + b * 32; float mn = xb[0], mx = xb[0];
        for (int i = 1; i < 32; i++) { mn = fminf(mn, xb[i]); mx = fmaxf(mx, xb[i]); }
        float d = (mx - mn) / 15, id = d ? 1.0f / d : 0; y[b].d = F2H(d); y[b].m = F2H(mn);
        for (int j = 0; j < 16; j++) {
            int a = (int)((xb[j] - mn) * id + 0.5f), c = (int)((xb[j + 16] - mn) * id + 0.5f);
            a = a > 15 ? 15 : a;
            c = c > 15 ? 15 : c;
            y[b].qs[j] = (uint8_t)(a | (c << 4));
        }
    }
}
static void or_dequantize_q4_1(const void *vx, float *y, int64_t k) {
    const block_q4_1 *x = vx;
    for (int64_t b = 0; b < k / 32; b++) { float d = H2F(x[b].d), m = H2F(x[b].m);
        for (int j = 0; j < 16; j++) { y[b*32+j] = (x[b].qs[j] & 15) * d + m; y[b*32+j+16] = (x[b].qs[j] >> 4) * d + m; } }
}
static void or_dot_q4_1_q8_1(int64_t k, float *s, const void *vw, const void *va) {
    const block_q4_1 *w = vw; const block_q8_1 *a = va; float sum = 0;
    for (int64_t b = 0; b < k / 32; b++) { int t = 0;
        for (int j = 0; j < 16; j++) t += (w[b].qs[j] & 15) * a[b].qs[j] + (w[b].qs[j] >> 4) * a[b].qs[j + 16];
        sum += t * (H2F(w[b].d) * H2F(a[b].d)) + H2F(w[b].m) * H2F(a[b].s); }
    *s = sum;
}
static int q5(const uint8_t *qs, const uint8_t *qh, int j) { uint32_t h; memcpy(&h, qh, 4); int lo = j < 16 ? qs[j] & 15 : qs[j - 16] >> 4; return lo | (((h >> j) & 1) << 4); }
static void or_quantize_q5_0(const float *x, void *vy, int64_t k) {
    block_q5_0 *y = vy;
    for (int64_t b = 0; b < k / 32; b++) {
        const float *xb = x + b * 32; float amax = 0, max = 0;
        for (int i = 0; i < 32; i++) if (fabsf(xb[i]) > amax) { amax = fabsf(xb[i]); max = xb[i]; }
        float d = max / -16, id = d ? 1.0f / d : 0; y[b].d = F2H(d); uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            int a = (int)(xb[j] * id + 16.5f), c = (int)(xb[j + 16] * id + 16.5f);
            a = a > 31 ? 31 : a;
            c = c > 31 ? 31 : c;
            y[b].qs[j] = (uint8_t)((a & 15) | ((c & 15) << 4));
            qh |= ((uint32_t)(a >> 4) << j) | ((uint32_t)(c >> 4) << (j + 16));
        }
        memcpy(y[b].qh, &qh, 4);
    }
}
static void or_dequantize_q5_0(const void *vx, float *y, int64_t k) {
    const block_q5_0 *x = vx;
    for (int64_t b = 0; b < k / 32; b++) for (int j = 0; j < 32; j++) y[b*32+j] = (q5(x[b].qs, x[b].qh, j) - 16) * H2F(x[b].d);
}
static void or_dot_q5_0_q8_0(int64_t k, float *s, const void *vw, const void *va) {
    const block_q5_0 *w = vw; const block_q8_0 *a = va; float sum = 0;
    for (int64_t b = 0; b < k / 32; b++) { int t = 0;
        for (int j = 0; j < 32; j++) t += (q5(w[b].qs, w[b].qh, j) - 16) * a[b].qs[j];
        sum += t * (H2F(w[b].d) * H2F(a[b].d)); }
    *s = sum;
}
static void or_quantize_q5_1(const float *x, void *vy, int64_t k) {
    block_q5_1 *y = vy;
    for (int64_t b = 0; b < k / 32; b++) {
        const float *xb = x + b * 32; float mn = xb[0], mx = xb[0];
        for (int i = 1; i < 32; i++) { mn = fminf(mn, xb[i]); mx = fmaxf(mx, xb[i]); }
        float d = (mx - mn) / 31, id = d ? 1.0f / d : 0; y[b].d = F2H(d); y[b].m = F2H(mn); uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            int a = (int)((xb[j] - mn) * id + 0.5f), c = (int)((xb[j + 16] - mn) * id + 0.5f);
            a = a > 31 ? 31 : a;
            c = c > 31 ? 31 : c;
            y[b].qs[j] = (uint8_t)((a & 15) | ((c & 15) << 4));
            qh |= ((uint32_t)(a >> 4) << j) | ((uint32_t)(c >> 4) << (j + 16));
        }
        memcpy(y[b].qh, &qh, 4);
    }
}
static void or_dequantize_q5_1(const void *vx, float *y, int64_t k) {
    const block_q5_1 *x = vx;
    for (int64_t b = 0; b < k / 32; b++) for (int j = 0; j < 32; j++) y[b*32+j] = q5(x[b].qs, x[b].qh, j) * H2F(x[b].d) + H2F(x[b].m);
}
static void or_dot_q5_1_q8_1(int64_t k, float *s, const void *vw, const void *va) {
    const block_q5_1 *w = vw; const block_q8_1 *a = va; float sum = 0;
    for (int64_t b = 0; b < k / 32; b++) { int t = 0;
        for (int j = 0; j < 32; j++) t += q5(w[b].qs, w[b].qh, j) * a[b].qs[j];
        sum += t * (H2F(w[b].d) * H2F(a[b].d)) + H2F(w[b].m) * H2F(a[b].s); }
    *s = sum;
}
/* q8_K: ggml semantics (iscale = -127/max of the largest-|x| element, nearest-even, clamp 127) */
static int nearest_int(float f) { float v = f + 12582912.f; int i; memcpy(&i, &v, 4); return (i & 0x007fffff) - 0x00400000; }
static void or_quantize_q8_K(const float *x, void *vy, int64_t k) {
    block_q8_K *y = vy;
    for (int64_t b = 0; b < k / 256; b++) {
        const float *xb = x + b * 256; float amax = 0, max = 0;
        for (int j = 0; j < 256; j++) if (fabsf(xb[j]) > amax) { amax = fabsf(xb[j]); max = xb[j]; }
        if (!amax) { memset(&y[b], 0, sizeof(y[b])); continue; }
        const float iscale = -127.f / max;
        for (int j = 0; j < 256; j++) { int v = nearest_int(iscale * xb[j]); y[b].qs[j] = (int8_t)(v > 127 ? 127 : v); }
        for (int j = 0; j < 16; j++) { int s = 0; for (int i = 0; i < 16; i++) s += y[b].qs[16*j+i]; y[b].bsums[j] = (int16_t)s; }
        y[b].d = 1 / iscale;
    }
}
static void or_dequantize_q8_K(const void *vx, float *y, int64_t k) {
    const block_q8_K *x = vx; for (int64_t b = 0; b < k / 256; b++) for (int j = 0; j < 256; j++) y[b*256+j] = x[b].d * x[b].qs[j];
}
/* K-quant weights for the oracle: deterministic pseudo-random blocks derived from x */
static void fakeblocks(const float *x, void *y, int64_t k, size_t bsz, int doff, int nd) {
    uint32_t h = 2166136261u; for (int64_t i = 0; i < k; i++) { uint32_t u; memcpy(&u, &x[i], 4); h = (h ^ u) * 16777619u; }
    uint8_t *p = y; size_t n = (size_t)(k / 256) * bsz;
    for (size_t i = 0; i < n; i++) { h ^= h << 13; h ^= h >> 17; h ^= h << 5; p[i] = (uint8_t)h; }
    for (int64_t b = 0; b < k / 256; b++) for (int t = 0; t < nd; t++) {
        h ^= h << 13; h ^= h >> 17; h ^= h << 5;
        ea_fp16 d = F2H((float)((h % 1000) + 1) * 1e-5f); memcpy(p + b * bsz + doff + 2 * t, &d, 2); }
}
static void get_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) { *d = q[j] & 63; *m = q[j + 4] & 63; }
    else { *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4); *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4); }
}
static void or_quantize_q4_K(const float *x, void *y, int64_t k) { fakeblocks(x, y, k, sizeof(block_q4_K), 0, 2); }
static void or_dequantize_q4_K(const void *vx, float *y, int64_t k) {
    const block_q4_K *x = vx;
    for (int64_t b = 0; b < k / 256; b++) { const uint8_t *q = x[b].qs; float d = H2F(x[b].d), mn = H2F(x[b].dmin); int is = 0;
        for (int j = 0; j < 256; j += 64) { uint8_t sc, m;
            get_scale_min_k4(is, x[b].scales, &sc, &m); float d1 = d * sc, m1 = mn * m;
            get_scale_min_k4(is + 1, x[b].scales, &sc, &m); float d2 = d * sc, m2 = mn * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 0xF) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - m2;
            q += 32; is += 2; } }
}
static void or_quantize_q5_K(const float *x, void *y, int64_t k) { fakeblocks(x, y, k, sizeof(block_q5_K), 0, 2); }
static void or_dequantize_q5_K(const void *vx, float *y, int64_t k) {
    const block_q5_K *x = vx;
    for (int64_t b = 0; b < k / 256; b++) { const uint8_t *ql = x[b].qs, *qh = x[b].qh; float d = H2F(x[b].d), mn = H2F(x[b].dmin); int is = 0; uint8_t u1 = 1, u2 = 2;
        for (int j = 0; j < 256; j += 64) { uint8_t sc, m;
            get_scale_min_k4(is, x[b].scales, &sc, &m); float d1 = d * sc, m1 = mn * m;
            get_scale_min_k4(is + 1, x[b].scales, &sc, &m); float d2 = d * sc, m2 = mn * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
            ql += 32; is += 2; u1 <<= 2; u2 <<= 2; } }
}
static void or_quantize_q6_K(const float *x, void *y, int64_t k) { fakeblocks(x, y, k, sizeof(block_q6_K), 208, 1); }
static void or_dequantize_q6_K(const void *vx, float *y, int64_t k) {
    const block_q6_K *x = vx;
    for (int64_t b = 0; b < k / 256; b++) { float d = H2F(x[b].d); const uint8_t *ql = x[b].ql, *qh = x[b].qh; const int8_t *sc = x[b].scales;
        for (int n = 0; n < 256; n += 128) {
            for (int l = 0; l < 32; l++) { int is = l / 16;
                int q1 = (int8_t)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                int q2 = (int8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                int q3 = (int8_t)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                int q4 = (int8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * sc[is] * q1; y[l + 32] = d * sc[is + 2] * q2; y[l + 64] = d * sc[is + 4] * q3; y[l + 96] = d * sc[is + 6] * q4; }
            y += 128; ql += 64; qh += 32; sc += 8; } }
}
/* K-quant dots: dequantize the weight block and dot with the q8_K ints (exact int sums per 16) */
#define KDOT(fmt, deq) \
static void or_dot_##fmt##_q8_K(int64_t k, float *s, const void *vw, const void *va) { \
    const block_q8_K *a = va; \
    double sum = 0; \
    float w[256]; \
    for (int64_t b = 0; b < k / 256; b++) { \
        deq((const char *)vw + b * sizeof(block_##fmt), w, 256); \
        double t = 0; \
        for (int j = 0; j < 256; j++) t += (double)w[j] * a[b].qs[j]; \
        sum += t * a[b].d; \
    } \
    *s = (float)sum; \
}
KDOT(q4_K, or_dequantize_q4_K)
KDOT(q5_K, or_dequantize_q5_K)
KDOT(q6_K, or_dequantize_q6_K)
static void or_quantize_q2_K(const float *x, void *y, int64_t k) { fakeblocks(x, y, k, sizeof(block_q2_K), 80, 2); }
static void or_dequantize_q2_K(const void *vx, float *y, int64_t k) {
    const block_q2_K *x = vx;
    for (int64_t b = 0; b < k / 256; b++) { float d = H2F(x[b].d), mn = H2F(x[b].dmin); const uint8_t *q = x[b].qs; int is = 0;
        for (int n = 0; n < 256; n += 128) { int shift = 0;
            for (int j = 0; j < 4; j++) { uint8_t sc = x[b].scales[is++]; float dl = d * (sc & 0xF), ml = mn * (sc >> 4);
                for (int l = 0; l < 16; l++) *y++ = dl * ((q[l] >> shift) & 3) - ml;
                sc = x[b].scales[is++]; dl = d * (sc & 0xF); ml = mn * (sc >> 4);
                for (int l = 0; l < 16; l++) *y++ = dl * ((q[l + 16] >> shift) & 3) - ml;
                shift += 2; }
            q += 32; } }
}
static void or_quantize_q3_K(const float *x, void *y, int64_t k) { fakeblocks(x, y, k, sizeof(block_q3_K), 108, 1); }
static void or_dequantize_q3_K(const void *vx, float *y, int64_t k) {
    const block_q3_K *x = vx;
    for (int64_t b = 0; b < k / 256; b++) { float d = H2F(x[b].d); const uint8_t *q = x[b].qs, *hm = x[b].hmask;
        uint32_t aux[4]; const uint32_t kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f; memcpy(aux, x[b].scales, 12);
        uint32_t tmp = aux[2];
        aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
        aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
        aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
        aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
        const int8_t *sc = (const int8_t *)aux; int is = 0; uint8_t m = 1;
        for (int n = 0; n < 256; n += 128) { int shift = 0;
            for (int j = 0; j < 4; j++) { float dl = d * (sc[is++] - 32);
                for (int l = 0; l < 16; l++) *y++ = dl * ((int8_t)((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
                dl = d * (sc[is++] - 32);
                for (int l = 0; l < 16; l++) *y++ = dl * ((int8_t)((q[l + 16] >> shift) & 3) - ((hm[l + 16] & m) ? 0 : 4));
                shift += 2; m <<= 1; }
            q += 32; } }
}
KDOT(q2_K, or_dequantize_q2_K)
KDOT(q3_K, or_dequantize_q3_K)

/* ---- table ---- */
#define F(f) ((void (*)(void))(f))
static const struct { ea_op op; int type; void (*fn)(void); } k_oracle[] = {
    {EA_OP_QUANTIZE, EA_F16, F(or_quantize_f16)}, {EA_OP_DEQUANTIZE, EA_F16, F(or_dequantize_f16)},
    {EA_OP_DOT, EA_F16, F(or_dot_f16_f32)},
    {EA_OP_QUANTIZE, EA_BF16, F(or_quantize_bf16)}, {EA_OP_DEQUANTIZE, EA_BF16, F(or_dequantize_bf16)},
    {EA_OP_DOT, EA_BF16, F(or_dot_bf16_f32)},
    {EA_OP_QUANTIZE, EA_Q4_0, F(or_quantize_q4_0)}, {EA_OP_DEQUANTIZE, EA_Q4_0, F(or_dequantize_q4_0)},
    {EA_OP_DOT, EA_Q4_0, F(or_dot_q4_0_q8_0)},
    {EA_OP_QUANTIZE, EA_Q4_1, F(or_quantize_q4_1)}, {EA_OP_DEQUANTIZE, EA_Q4_1, F(or_dequantize_q4_1)},
    {EA_OP_DOT, EA_Q4_1, F(or_dot_q4_1_q8_1)},
    {EA_OP_QUANTIZE, EA_Q5_0, F(or_quantize_q5_0)}, {EA_OP_DEQUANTIZE, EA_Q5_0, F(or_dequantize_q5_0)},
    {EA_OP_DOT, EA_Q5_0, F(or_dot_q5_0_q8_0)},
    {EA_OP_QUANTIZE, EA_Q5_1, F(or_quantize_q5_1)}, {EA_OP_DEQUANTIZE, EA_Q5_1, F(or_dequantize_q5_1)},
    {EA_OP_DOT, EA_Q5_1, F(or_dot_q5_1_q8_1)},
    {EA_OP_QUANTIZE, EA_Q2_K, F(or_quantize_q2_K)}, {EA_OP_DEQUANTIZE, EA_Q2_K, F(or_dequantize_q2_K)},
    {EA_OP_DOT, EA_Q2_K, F(or_dot_q2_K_q8_K)},
    {EA_OP_QUANTIZE, EA_Q3_K, F(or_quantize_q3_K)}, {EA_OP_DEQUANTIZE, EA_Q3_K, F(or_dequantize_q3_K)},
    {EA_OP_DOT, EA_Q3_K, F(or_dot_q3_K_q8_K)},
    {EA_OP_QUANTIZE, EA_Q4_K, F(or_quantize_q4_K)}, {EA_OP_DEQUANTIZE, EA_Q4_K, F(or_dequantize_q4_K)},
    {EA_OP_DOT, EA_Q4_K, F(or_dot_q4_K_q8_K)},
    {EA_OP_QUANTIZE, EA_Q5_K, F(or_quantize_q5_K)}, {EA_OP_DEQUANTIZE, EA_Q5_K, F(or_dequantize_q5_K)},
    {EA_OP_DOT, EA_Q5_K, F(or_dot_q5_K_q8_K)},
    {EA_OP_QUANTIZE, EA_Q6_K, F(or_quantize_q6_K)}, {EA_OP_DEQUANTIZE, EA_Q6_K, F(or_dequantize_q6_K)},
    {EA_OP_DOT, EA_Q6_K, F(or_dot_q6_K_q8_K)},
    {EA_OP_QUANTIZE, EA_Q8_1, F(or_quantize_q8_1)},
    {EA_OP_QUANTIZE, EA_Q8_K, F(or_quantize_q8_K)}, {EA_OP_DEQUANTIZE, EA_Q8_K, F(or_dequantize_q8_K)},
};

void (*oracle_fn(ea_op op, int type))(void) {
    for (size_t i = 0; i < sizeof(k_oracle) / sizeof(k_oracle[0]); i++)
        if (k_oracle[i].op == op && k_oracle[i].type == type) return k_oracle[i].fn;
    return NULL;
}
