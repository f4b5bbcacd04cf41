/* Body of ea_quantize_q5_1__{neon,armv7neon} (EA_FN named by the including file).
 * Q5_1, byte-exact with the reference: d = (max - min) / 31, q = min(31, trunc((x - min) * id + 0.5)),
 * m = min; bits laid out as Q5_0. ref: ggml-common.h block_q5_1; gguf-py Q5_1.quantize_blocks */
#include "quant_util.h"

void EA_FN(const float *x, void *vy, int64_t k) {
    block_q5_1 *y = (block_q5_1 *)vy;
    for (int64_t b = 0; b < k / QK5_1; b++) {
        const float *xb = x + b * QK5_1;
        float32x4_t v[8];
        float lo, hi;
        ea_load32_minmax(xb, v, &lo, &hi);
        const float d = (hi - lo) / 31.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = ea_f32_to_fp16(d);
        y[b].m = ea_f32_to_fp16(lo);
        uint32_t qh = 0;
#if !defined(EA_A64)
        if (fabsf(hi) < 1e-30f || fabsf(lo) < 1e-30f || d < 1e-30f) { /* ARMv7 NEON flushes subnormals */
            for (int j = 0; j < QK5_1 / 2; j++) {
                int q0 = (int)((xb[j] - lo) * id + 0.5f), q1 = (int)((xb[j + 16] - lo) * id + 0.5f);
                q0 = q0 > 31 ? 31 : q0;
                q1 = q1 > 31 ? 31 : q1;
                y[b].qs[j] = (uint8_t)((q0 & 15) | ((q1 & 15) << 4));
                qh |= ((uint32_t)(q0 >> 4) << j) | ((uint32_t)(q1 >> 4) << (j + 16));
            }
            memcpy(y[b].qh, &qh, 4);
            continue;
        }
#endif
        const float32x4_t vid = vdupq_n_f32(id), add = vdupq_n_f32(0.5f), vlo = vdupq_n_f32(lo);
        const int32x4_t top = vdupq_n_s32(31);
        int32x4_t q[8];
        for (int i = 0; i < 8; i++) q[i] = ea_trunc_affine(vsubq_f32(v[i], vlo), vid, add, top);
        const uint8x16_t l = vreinterpretq_u8_s8(ea_narrow_s32x4(q[0], q[1], q[2], q[3]));
        const uint8x16_t h = vreinterpretq_u8_s8(ea_narrow_s32x4(q[4], q[5], q[6], q[7]));
        vst1q_u8(y[b].qs, vorrq_u8(vandq_u8(l, vdupq_n_u8(0x0f)), vshlq_n_u8(h, 4)));
        qh = ea_bits16(vshrq_n_u8(l, 4)) | ((uint32_t)ea_bits16(vshrq_n_u8(h, 4)) << 16);
        memcpy(y[b].qh, &qh, 4);
    }
}
