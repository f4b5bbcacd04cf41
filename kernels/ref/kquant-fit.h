/* Scale fitting for the K-quant quantizers (edgeai's own algorithm, not ggml's).
 *
 * Each sub-block is fitted by alternating least squares: assign the integer quants for the
 * current (scale, offset), then solve the 2x2 (or 1x1) least-squares problem for (scale, offset)
 * given those quants, keep the best of a few rounds. The super-block scales that store the
 * sub-block scales in 4/6/8 bits are chosen afterwards, and the quants are assigned once more
 * against the scales as they will be decoded (fp16 super-scale times the integer sub-scale). */
#ifndef EDGEAI_REF_KQUANT_FIT_H
#define EDGEAI_REF_KQUANT_FIT_H
#include <math.h>
#include "kquants.h"

#define EA_FIT_ROUNDS 6

static inline int ea_clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Fit x[n] ~ off + scale * q, q in [0, L], off <= 0 (K-quants store -min >= 0). */
static inline void ea_fit_affine(const float *x, int n, int L, float *scale, float *off) {
    float lo = 0.0f, hi = x[0];
    for (int i = 0; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    if (hi <= lo) {
        *scale = 0.0f;
        *off = lo;
        return;
    }
    float s = (hi - lo) / (float)L, o = lo;
    float best_err = INFINITY, best_s = s, best_o = o;
    for (int r = 0; r < EA_FIT_ROUNDS; r++) {
        double sq = 0, sqq = 0, sx = 0, sxq = 0, err = 0;
        for (int i = 0; i < n; i++) {
            const int q = ea_clampi((int)lrintf((x[i] - o) / s), 0, L);
            const double e = x[i] - (o + s * q);
            err += e * e;
            sq += q;
            sqq += (double)q * q;
            sx += x[i];
            sxq += (double)x[i] * q;
        }
        if (err < best_err) {
            best_err = (float)err;
            best_s = s;
            best_o = o;
        }
        /* least squares for (s, o) with these quants; o clamped to <= 0 */
        const double det = n * sqq - sq * sq;
        if (det <= 0) break;
        double ns = (n * sxq - sq * sx) / det, no = (sx - ns * sq) / n;
        if (no > 0) {
            no = 0;
            ns = sqq > 0 ? sxq / sqq : 0;
        }
        if (!(ns > 0)) break;
        s = (float)ns;
        o = (float)no;
    }
    *scale = best_s;
    *off = best_o;
}

/* Fit x[n] ~ scale * q, q in [qmin, qmax] (qmin < 0 < qmax), scale of either sign. */
static inline float ea_fit_symmetric(const float *x, int n, int qmin, int qmax) {
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < n; i++)
        if (fabsf(x[i]) > amax) {
            amax = fabsf(x[i]);
            max = x[i];
        }
    if (amax == 0.0f) return 0.0f;
    /* the largest magnitude lands on the wider end of the range, whatever its sign */
    float s = max / (float)qmin;
    float best_err = INFINITY, best_s = s;
    for (int r = 0; r < EA_FIT_ROUNDS; r++) {
        double sxq = 0, sqq = 0, err = 0;
        for (int i = 0; i < n; i++) {
            const int q = ea_clampi((int)lrintf(x[i] / s), qmin, qmax);
            const double e = x[i] - (double)s * q;
            err += e * e;
            sxq += (double)x[i] * q;
            sqq += (double)q * q;
        }
        if (err < best_err) {
            best_err = (float)err;
            best_s = s;
        }
        if (sqq <= 0) break;
        const float ns = (float)(sxq / sqq);
        if (ns == 0.0f || ns == s) break;
        s = ns;
    }
    return best_s;
}

/* Quant of x for a decoded (scale, min): x ~ scale * q - min. */
static inline int ea_assign_affine(float x, float scale, float min, int L) {
    return scale > 0.0f ? ea_clampi((int)lrintf((x + min) / scale), 0, L) : 0;
}

static inline int ea_assign_symmetric(float x, float scale, int qmin, int qmax) {
    return scale != 0.0f ? ea_clampi((int)lrintf(x / scale), qmin, qmax) : 0;
}

/* Super-block scale for non-negative sub-block values v[n] stored as integers 0..maxq. */
static inline float ea_super_scale(const float *v, int n, int maxq) {
    float m = 0.0f;
    for (int i = 0; i < n; i++) m = v[i] > m ? v[i] : m;
    return m / (float)maxq;
}

#endif
