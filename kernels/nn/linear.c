#define _POSIX_C_SOURCE 200809L
/* The MatMul / Gemm op of edgeai.onnx in one C call: y[m, n] = ((x * s) @ W^T) / s + bias, with x's
 * rows zero-padded from k to the block multiple kp and s the activation prescale (conv2d.h).
 * Replaces five numpy passes (max, min, scale, pad, bias) per op call; the terrain UNet makes 58
 * such calls per image on [1, 128] inputs, where those passes cost more than the product. */
#include <stdlib.h>
#include <string.h>
#include "conv2d.h"
#include "linear.h"

int ea_linear(ea_type wtype, const void *w, int64_t n, int64_t k, int64_t kp, const float *x, int64_t m,
              const float *bias, float *y, int nthreads) {
    const ea_type_traits *tr = ea_type_info(wtype);
    if (!tr || !tr->is_weight) return EA_ERR_TYPE;
    if (n <= 0 || k <= 0 || m < 0 || kp < k || kp % tr->block_size) return EA_ERR_SHAPE;
    if (m == 0) return EA_OK;
    float scale = 1.0f, unscale = 1.0f;
    int rc = EA_OK;
    if (tr->act_type != EA_F32) {
        rc = ea_act_prescale(x, m * k, tr->act_type, nthreads, &scale, &unscale);
        if (rc != EA_OK) return rc;
    }
    const float *xs = x;
    float *buf = NULL;
    if (scale != 1.0f || kp != k) {
        if (posix_memalign((void **)&buf, 64, (size_t)(m * kp) * sizeof(float) + 64) != 0) return EA_ERR_NOMEM;
        for (int64_t i = 0; i < m; i++) {
            const float *src = x + i * k;
            float *dst = buf + i * kp;
            for (int64_t c = 0; c < k; c++) dst[c] = src[c] * scale;
            for (int64_t c = k; c < kp; c++) dst[c] = 0.0f;
        }
        xs = buf;
    }
    rc = ea_matmul(wtype, w, n, kp, xs, m, y, nthreads);
    free(buf);
    if (rc != EA_OK) return rc;
    if (unscale != 1.0f || bias) {
        for (int64_t i = 0; i < m; i++) {
            float *row = y + i * n;
            if (bias)
                for (int64_t c = 0; c < n; c++) row[c] = row[c] * unscale + bias[c];
            else
                for (int64_t c = 0; c < n; c++) row[c] *= unscale;
        }
    }
    return EA_OK;
}
