/* Softmax of attention score chunks (softmax.h), four lanes at a time with vexp.h's e^x. */
#include "softmax.h"

#include <math.h>
#include <string.h>

#include "vexp.h"

/* x[i] = e^(x[i] - m) for i < n; returns their sum (four lane sums, then a fixed tree) */
static float exp_sub_sum(float *x, int n, float m) {
    ea_v4f acc = ea_v4_splat(0.0f);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const ea_v4f y = ea_v4_exp(ea_v4_load(x + i) - ea_v4_splat(m));
        ea_v4_store(x + i, y);
        acc += y;
    }
    if (i < n) {
        /* the last n % 4 in a -inf-padded vector: the padding lanes add 0 to their sums */
        float buf[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
        memcpy(buf, x + i, (size_t)(n - i) * sizeof(float));
        const ea_v4f y = ea_v4_exp(ea_v4_load(buf) - ea_v4_splat(m));
        ea_v4_store(buf, y);
        memcpy(x + i, buf, (size_t)(n - i) * sizeof(float));
        acc += y;
    }
    return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

float ea_exp_neg_sum(float *x, int n) { return exp_sub_sum(x, n, 0.0f); }

float ea_softmax_chunk(float *s, int n, float scale, float *mx) {
    ea_v4f vmax = ea_v4_splat(-INFINITY);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const ea_v4f v = ea_v4_load(s + i) * ea_v4_splat(scale);
        ea_v4_store(s + i, v);
        const ea_v4i gt = v > vmax; /* false for NaN: NaN scores do not become the maximum */
        vmax = (ea_v4f)(((ea_v4i)v & gt) | ((ea_v4i)vmax & ~gt));
    }
    float m = -INFINITY;
    for (int l = 0; l < 4; l++)
        if (vmax[l] > m) m = vmax[l];
    for (; i < n; i++) {
        s[i] *= scale;
        if (s[i] > m) m = s[i];
    }
    *mx = m;
    /* x - m <= 0 for every non-NaN score; all -inf (m = -inf) gives NaN, as expf would */
    return exp_sub_sum(s, n, m);
}
