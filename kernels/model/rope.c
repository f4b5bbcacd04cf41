/* RoPE (rope.h). */
#include "rope.h"

void ea_rope(float *x, int64_t rows, int heads, int hd, int rope_dim, int neox, const float *cs, const float *sn) {
    const int half = rope_dim / 2;
    for (int64_t r = 0; r < rows; r++) {
        const float *c = cs + r * half, *s = sn + r * half;
        for (int h = 0; h < heads; h++) {
            float *v = x + (r * heads + h) * (int64_t)hd;
            if (neox) { /* pairs (i, i + half); scalar at -O2 (gcc 12 leaves both loops unvectorised) */
                for (int i = 0; i < half; i++) {
                    const float x0 = v[i], x1 = v[i + half];
                    v[i] = x0 * c[i] - x1 * s[i];
                    v[i + half] = x0 * s[i] + x1 * c[i];
                }
            } else {
                for (int i = 0; i < half; i++) {
                    const float x0 = v[2 * i], x1 = v[2 * i + 1];
                    v[2 * i] = x0 * c[i] - x1 * s[i];
                    v[2 * i + 1] = x0 * s[i] + x1 * c[i];
                }
            }
        }
    }
}
