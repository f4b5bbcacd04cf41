/* Q5_K . Q8_K: d_a * (d * sum_sb scale_sb * sum(q*a) - dmin * sum_sb min_sb * sum(a)), exact ints;
 * sum(a) of a 32-element sub-block is two of Q8_K's 16-element bsums. */
#include "kquants.h"

void ea_dot_q5_K_q8_K__ref(int64_t k, float *s, const void *vw, const void *va) {
    const block_q5_K *w = (const block_q5_K *)vw;
    const block_q8_K *a = (const block_q8_K *)va;
    int8_t q[QK_K];
    uint8_t sc[8], mn[8];
    float sum = 0.0f;
    for (int64_t b = 0; b < k / QK_K; b++) {
        ea_unpack_q5_K(&w[b], q, sc, mn);
        int32_t isc = 0, imn = 0;
        for (int sb = 0; sb < 8; sb++) {
            int32_t dot = 0;
            for (int j = 0; j < 32; j++) dot += q[32 * sb + j] * a[b].qs[32 * sb + j];
            isc += sc[sb] * dot;
            imn += mn[sb] * (a[b].bsums[2 * sb] + a[b].bsums[2 * sb + 1]);
        }
        sum += a[b].d * (ea_fp16_to_f32(w[b].d) * (float)isc - ea_fp16_to_f32(w[b].dmin) * (float)imn);
    }
    *s = sum;
}
