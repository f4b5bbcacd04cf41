/* Body of ea_quantize_f16__{neon,armv7neon} (EA_FN named by the including file): float32 -> fp16
 * bits, the ref's conversion exactly (round to nearest even, IEEE subnormals, >= 65520 to inf,
 * NaN kept quiet with the top of its payload). 8 per step, scalar tail. ref: blocks.h ea_f32_to_fp16
 *  AArch64: FCVTN does exactly that under Linux's FPCR (round to nearest, no flush, no default NaN).
 *  ARMv7: NEON arithmetic flushes subnormals and returns the default NaN, so the ref's algorithm
 *  runs in integer lanes: normal results round the 13 dropped bits to even, subnormal ones shift
 *  the 24-bit significand right by 126 - exponent (14..24) and round the dropped bits to even. */
#include "neon_util.h"

static inline uint16x4_t ea_f16x4(float32x4_t f) {
#if defined(EA_A64)
    return vreinterpret_u16_f16(vcvt_f16_f32(f));
#else
    const uint32x4_t x = vreinterpretq_u32_f32(f);
    const uint32x4_t sign = vandq_u32(vshrq_n_u32(x, 16), vdupq_n_u32(0x8000u));
    const uint32x4_t ax = vandq_u32(x, vdupq_n_u32(0x7fffffffu));
    const uint32x4_t one = vdupq_n_u32(1);
    /* normal: (ax >> 13) - (112 << 10), plus one if the 13 dropped bits are above half, or half and odd */
    const uint32x4_t rn = vsubq_u32(vshrq_n_u32(ax, 13), vdupq_n_u32(112u << 10));
    const uint32x4_t remn = vandq_u32(ax, vdupq_n_u32(0x1fffu));
    const uint32x4_t upn = vorrq_u32(vcgtq_u32(remn, vdupq_n_u32(0x1000u)),
                                     vandq_u32(vceqq_u32(remn, vdupq_n_u32(0x1000u)), vtstq_u32(rn, one)));
    const uint32x4_t normal = vsubq_u32(rn, upn); /* upn is 0 or all ones: minus -1 adds one */
    /* subnormal: m >> shift, shift = 126 - exponent */
    const uint32x4_t m = vorrq_u32(vandq_u32(ax, vdupq_n_u32(0x7fffffu)), vdupq_n_u32(0x800000u));
    const int32x4_t shift = vsubq_s32(vdupq_n_s32(126), vreinterpretq_s32_u32(vshrq_n_u32(ax, 23)));
    const uint32x4_t rs = vshlq_u32(m, vnegq_s32(shift));
    const uint32x4_t rems = vsubq_u32(m, vshlq_u32(rs, shift));
    const uint32x4_t half = vshlq_u32(one, vsubq_s32(shift, vdupq_n_s32(1)));
    const uint32x4_t ups = vorrq_u32(vcgtq_u32(rems, half), vandq_u32(vceqq_u32(rems, half), vtstq_u32(rs, one)));
    const uint32x4_t sub = vsubq_u32(rs, ups);
    /* inf / NaN: 0x7c00, NaN with the quiet bit and the top 10 payload bits */
    const uint32x4_t isnan = vcgtq_u32(ax, vdupq_n_u32(0x7f800000u));
    const uint32x4_t nanbits = vandq_u32(isnan, vorrq_u32(vdupq_n_u32(0x200u), vandq_u32(vshrq_n_u32(ax, 13), vdupq_n_u32(0x3ffu))));
    const uint32x4_t special = vorrq_u32(vdupq_n_u32(0x7c00u), nanbits);
    uint32x4_t r = normal;
    r = vbslq_u32(vcltq_u32(ax, vdupq_n_u32(0x38800000u)), sub, r);
    r = vbslq_u32(vcltq_u32(ax, vdupq_n_u32(0x33000000u)), vdupq_n_u32(0), r);  /* < 2^-25: 0 */
    r = vbslq_u32(vcgeq_u32(ax, vdupq_n_u32(0x477ff000u)), special, r);         /* >= 65520: inf, NaN */
    return vmovn_u32(vorrq_u32(sign, r));
#endif
}

void EA_FN(const float *x, void *vy, int64_t k) {
    ea_fp16 *y = (ea_fp16 *)vy;
    int64_t i = 0;
    for (; i + 8 <= k; i += 8)
        vst1q_u16(y + i, vcombine_u16(ea_f16x4(vld1q_f32(x + i)), ea_f16x4(vld1q_f32(x + i + 4))));
    for (; i < k; i++) y[i] = ea_f32_to_fp16(x[i]);
}
