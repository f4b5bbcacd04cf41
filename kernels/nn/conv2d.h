/* 2-D convolution over the kernel API: im2col (quantized as gathered) + the GEMM kernels, block-format weights.
 * Used by edgeai's ONNX Conv op (edgeai/onnx). */
#ifndef EDGEAI_NN_CONV2D_H
#define EDGEAI_NN_CONV2D_H

#include <stdint.h>
#include "../edgeai_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ea_conv2d_geom {
    int64_t batch, in_c, in_h, in_w;   /* x: [batch, in_c, in_h, in_w] float32 */
    int64_t out_c, out_h, out_w;       /* y: [batch, out_c, out_h, out_w] float32 */
    int64_t kh, kw, sh, sw, dh, dw;    /* kernel, strides, dilations */
    int64_t pad_top, pad_left;         /* bottom/right padding is implied by out_h/out_w */
    int64_t group;
    int64_t k_real, k_padded;          /* (in_c/group)*kh*kw, and its block multiple */
} ea_conv2d_geom;

/* y = conv(x * x_scale, W) * y_scale + bias [+ residual] (residual as in ea_conv2d_nhwc below).
 * w: out_c rows of `wtype`, each k_padded long, row o = filter o flattened as (c, kh, kw) and
 * zero-padded; group g owns rows [g*out_c/group, (g+1)*out_c/group). bias: out_c floats or NULL.
 * Column buffers are bounded by chunk_bytes (<= 0: 16 MiB). Returns EA_OK or an EA_ERR_* code. */
int ea_conv2d(ea_type wtype, const void *w, const float *x, const float *bias, const float *residual, float *y,
              const ea_conv2d_geom *g, float x_scale, float y_scale, int64_t chunk_bytes, int nthreads);

/* y = conv(x, W) + bias [+ residual] with W rows in (kh, kw, c) order (conv2d-nhwc.c): the input is
 * quantized once into a padded NHWC copy, patches are copied as whole blocks. Needs (in_c/group) a
 * multiple of the activation block and k_padded == k_real == (in_c/group)*kh*kw, else EA_ERR_SHAPE.
 * The activation prescale of ea_act_prescale is applied inside. residual: NULL, or float32 shaped
 * like y (not aliasing it), added to each output after its bias, so y holds the bits of a separate
 * Add(conv + bias, residual). Returns EA_OK or an EA_ERR_* code. */
int ea_conv2d_nhwc(ea_type wtype, const void *w, const float *x, const float *bias, const float *residual,
                   float *y, const ea_conv2d_geom *g, int nthreads);

/* The power of two that puts max|x[0..n)| at ~2**20 for activation format `at` (2**10 for q8_1, whose
 * fp16 s = d * sum(qs) would overflow otherwise), so the fp16 block scales of the 8-bit activation
 * formats stay normal: *scale = 2**e, *unscale = 2**-e; both 1 for all-zero or non-finite x. */
int ea_act_prescale(const float *x, int64_t n, ea_type at, int nthreads, float *scale, float *unscale);

#ifdef __cplusplus
}
#endif
#endif
