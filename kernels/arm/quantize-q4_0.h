/* Body of ea_quantize_q4_0__{neon,armv7neon} (EA_FN named by the including file).
 * Q4_0, byte-exact with the reference: max = the element of largest |x| (signed), d = max / -8,
 * id = 1 / d, q = min(15, trunc(x * id + 8.5)); element j in the low nibble of qs[j], j + 16 in
 * the high one. ref: ggml-common.h block_q4_0; gguf-py Q4_0.quantize_blocks */
#include "quant_util.h"

void EA_FN(const float *x, void *vy, int64_t k) {
    block_q4_0 *y = (block_q4_0 *)vy;
    for (int64_t b = 0; b < k / QK4_0; b++) {
        const float *xb = x + b * QK4_0;
        float32x4_t v[8];
        float lo, hi;
        ea_load32_minmax(xb, v, &lo, &hi);
        const float max = ea_signed_absmax(xb, QK4_0, lo, hi);
        const float d = max / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = ea_f32_to_fp16(d);
#if !defined(EA_A64)
        if (fabsf(max) < 1e-30f) { /* ARMv7 NEON flushes subnormals: IEEE scalar path */
            for (int j = 0; j < QK4_0 / 2; j++) {
                int q0 = (int)(xb[j] * id + 8.5f), q1 = (int)(xb[j + 16] * id + 8.5f);
                y[b].qs[j] = (uint8_t)((q0 > 15 ? 15 : q0) | ((q1 > 15 ? 15 : q1) << 4));
            }
            continue;
        }
#endif
        const float32x4_t vid = vdupq_n_f32(id), add = vdupq_n_f32(8.5f);
        const int32x4_t top = vdupq_n_s32(15);
        int32x4_t q[8];
        for (int i = 0; i < 8; i++) q[i] = ea_trunc_affine(v[i], vid, add, top);
        const uint8x16_t l = vreinterpretq_u8_s8(ea_narrow_s32x4(q[0], q[1], q[2], q[3]));
        const uint8x16_t h = vreinterpretq_u8_s8(ea_narrow_s32x4(q[4], q[5], q[6], q[7]));
        vst1q_u8(y[b].qs, vorrq_u8(l, vshlq_n_u8(h, 4)));
    }
}
