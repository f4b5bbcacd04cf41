/* Q3_K . Q8_K: d_a * d * sum_sb scale_sb * sum(q*a), exact ints. */
#include "kquants.h"

void ea_dot_q3_K_q8_K__ref(int64_t k, float *s, const void *vw, const void *va) {
    const block_q3_K *w = (const block_q3_K *)vw;
    const block_q8_K *a = (const block_q8_K *)va;
    int8_t q[QK_K], sc[16];
    float sum = 0.0f;
    for (int64_t b = 0; b < k / QK_K; b++) {
        ea_unpack_q3_K(&w[b], q, sc);
        int32_t isum = 0;
        for (int sb = 0; sb < 16; sb++) {
            int32_t dot = 0;
            for (int j = 0; j < 16; j++) dot += q[16 * sb + j] * a[b].qs[16 * sb + j];
            isum += sc[sb] * dot;
        }
        sum += a[b].d * ea_fp16_to_f32(w[b].d) * (float)isum;
    }
    *s = sum;
}
