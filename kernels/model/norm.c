/* RMSNorm (norm.h). */
#include "norm.h"

#include <math.h>

void ea_rmsnorm(float *o, const float *x, const float *w, int64_t n, float eps) {
    /* four independent double sums: one chain of n dependent adds was ~4 cycles per element */
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += (double)x[i] * x[i];
        s1 += (double)x[i + 1] * x[i + 1];
        s2 += (double)x[i + 2] * x[i + 2];
        s3 += (double)x[i + 3] * x[i + 3];
    }
    for (; i < n; i++) s0 += (double)x[i] * x[i];
    const float s = (float)(1.0 / sqrt(((s0 + s1) + (s2 + s3)) / (double)n + eps));
    for (i = 0; i < n; i++) o[i] = x[i] * s * w[i];
}
