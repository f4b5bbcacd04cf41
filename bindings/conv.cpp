// pybind11 glue for kernels/nn/conv2d.h: the Conv op of edgeai.onnx. Shapes are checked here; the
// convolution runs without the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>
#include <string>
#include <vector>

extern "C" {
#include "edgeai_kernels.h"
#include "nn/conv2d.h"
#include "nn/linear.h"
}

namespace py = pybind11;

namespace {
// the optional residual of both convs: float32, C-contiguous, y's size, not y itself (None: nullptr)
const float *residual_of(const py::object &residual, const py::array &y, py::array &keep, const char *op) {
    if (residual.is_none()) return nullptr;
    keep = py::array::ensure(residual);
    if (!keep || !keep.dtype().is(py::dtype::of<float>()) || !(keep.flags() & py::array::c_style) ||
        keep.size() != y.size())
        throw py::value_error(std::string(op) + ": residual must be float32 shaped like y");
    if (keep.data() == y.data()) throw py::value_error(std::string(op) + ": residual must not be y itself");
    return (const float *)keep.data();
}
}  // namespace

void ea_bind_conv(py::module_ &m) {
    m.def("conv2d", [](int type, py::array w, py::array x, py::object bias, py::array y, py::dict geom,
                       float x_scale, float y_scale, int64_t chunk_bytes, int nthreads, py::object residual) {
        ea_conv2d_geom g;
        auto get = [&](const char *k) { return geom[k].cast<int64_t>(); };
        g.batch = get("batch"); g.in_c = get("in_c"); g.in_h = get("in_h"); g.in_w = get("in_w");
        g.out_c = get("out_c"); g.out_h = get("out_h"); g.out_w = get("out_w");
        g.kh = get("kh"); g.kw = get("kw"); g.sh = get("sh"); g.sw = get("sw"); g.dh = get("dh"); g.dw = get("dw");
        g.pad_top = get("pad_top"); g.pad_left = get("pad_left"); g.group = get("group");
        g.k_real = get("k_real"); g.k_padded = get("k_padded");
        const ea_type_traits *tr = ea_type_info(type);
        if (!tr || !tr->is_weight) throw py::value_error("conv2d: not a weight type");
        auto f32 = py::dtype::of<float>();
        if (!x.dtype().is(f32) || !y.dtype().is(f32)) throw py::type_error("conv2d: x and y must be float32");
        for (py::array *a : {&w, &x, &y})
            if (!(a->flags() & py::array::c_style)) throw py::value_error("conv2d: arrays must be C-contiguous");
        if (!y.writeable()) throw py::value_error("conv2d: y must be writable");
        if ((size_t)x.nbytes() != (size_t)(g.batch * g.in_c * g.in_h * g.in_w) * 4)
            throw py::value_error("conv2d: x does not match the geometry");
        if ((size_t)y.nbytes() != (size_t)(g.batch * g.out_c * g.out_h * g.out_w) * 4)
            throw py::value_error("conv2d: y does not match the geometry");
        if ((size_t)w.nbytes() < ea_row_size((ea_type)type, g.k_padded) * (size_t)g.out_c)
            throw py::value_error("conv2d: weight buffer too short");
        const float *bp = nullptr;
        py::array b;
        if (!bias.is_none()) {
            b = py::array::ensure(bias);
            if (!b || !b.dtype().is(f32) || !(b.flags() & py::array::c_style) || b.size() != g.out_c)
                throw py::value_error("conv2d: bias must be float32 [out_c]");
            bp = (const float *)b.data();
        }
        py::array r;
        const float *rp = residual_of(residual, y, r, "conv2d");
        int rc;
        {
            py::gil_scoped_release nogil;
            rc = ea_conv2d((ea_type)type, w.data(), (const float *)x.data(), bp, rp, (float *)y.mutable_data(), &g,
                           x_scale, y_scale, chunk_bytes, nthreads);
        }
        if (rc == EA_ERR_NOMEM) throw std::bad_alloc();
        if (rc != EA_OK) throw py::value_error("conv2d: error " + std::to_string(rc) + " (shape or kernel)");
    }, py::arg("type"), py::arg("w"), py::arg("x"), py::arg("bias"), py::arg("y"), py::arg("geom"),
       py::arg("x_scale") = 1.0f, py::arg("y_scale") = 1.0f, py::arg("chunk_bytes") = 0, py::arg("threads") = 0,
       py::arg("residual") = py::none(),
       "y[B, O, oh, ow] = conv2d(x * x_scale, W) * y_scale + bias [+ residual] (im2col + ea_matmul).");

    m.def("conv2d_nhwc", [](int type, py::array w, py::array x, py::object bias, py::array y,
                            const std::vector<int64_t> &geom, int nthreads, py::object residual) {
        // geom: the 18 fields of ea_conv2d_geom in declaration order (a tuple: cheaper than a dict per call)
        if (geom.size() != 18) throw py::value_error("conv2d_nhwc: geom must hold 18 integers");
        ea_conv2d_geom g;
        int64_t *f = &g.batch;
        static_assert(sizeof(ea_conv2d_geom) == 18 * sizeof(int64_t), "ea_conv2d_geom is 18 int64 fields");
        for (size_t i = 0; i < 18; i++) f[i] = geom[i];
        const ea_type_traits *tr = ea_type_info(type);
        if (!tr || !tr->is_weight) throw py::value_error("conv2d_nhwc: not a weight type");
        auto f32 = py::dtype::of<float>();
        if (!x.dtype().is(f32) || !y.dtype().is(f32)) throw py::type_error("conv2d_nhwc: x and y must be float32");
        for (py::array *a : {&w, &x, &y})
            if (!(a->flags() & py::array::c_style)) throw py::value_error("conv2d_nhwc: arrays must be C-contiguous");
        if (!y.writeable()) throw py::value_error("conv2d_nhwc: y must be writable");
        for (size_t i = 0; i < 18; i++)
            if (f[i] < 0) throw py::value_error("conv2d_nhwc: negative geometry");
        if ((size_t)x.nbytes() != (size_t)(g.batch * g.in_c * g.in_h * g.in_w) * 4)
            throw py::value_error("conv2d_nhwc: x does not match the geometry");
        if ((size_t)y.nbytes() != (size_t)(g.batch * g.out_c * g.out_h * g.out_w) * 4)
            throw py::value_error("conv2d_nhwc: y does not match the geometry");
        if ((size_t)w.nbytes() < ea_row_size((ea_type)type, g.k_padded) * (size_t)g.out_c)
            throw py::value_error("conv2d_nhwc: weight buffer too short");
        const float *bp = nullptr;
        py::array b;
        if (!bias.is_none()) {
            b = py::array::ensure(bias);
            if (!b || !b.dtype().is(f32) || !(b.flags() & py::array::c_style) || b.size() != g.out_c)
                throw py::value_error("conv2d_nhwc: bias must be float32 [out_c]");
            bp = (const float *)b.data();
        }
        py::array r;
        const float *rp = residual_of(residual, y, r, "conv2d_nhwc");
        int rc;
        {
            py::gil_scoped_release nogil;
            rc = ea_conv2d_nhwc((ea_type)type, w.data(), (const float *)x.data(), bp, rp, (float *)y.mutable_data(),
                                &g, nthreads);
        }
        if (rc == EA_ERR_NOMEM) throw std::bad_alloc();
        if (rc != EA_OK) throw py::value_error("conv2d_nhwc: error " + std::to_string(rc) + " (shape or kernel)");
    }, py::arg("type"), py::arg("w"), py::arg("x"), py::arg("bias"), py::arg("y"), py::arg("geom"),
       py::arg("threads") = 0, py::arg("residual") = py::none(),
       "y[B, O, oh, ow] = conv2d(x, W) + bias [+ residual], W rows in (kh, kw, c) order (quantized NHWC input).");

    m.def("act_prescale", [](py::array x, int act_type, int nthreads) {
        if (!x.dtype().is(py::dtype::of<float>()) || !(x.flags() & py::array::c_style))
            throw py::type_error("act_prescale: x must be float32, C-contiguous");
        if (!ea_type_info(act_type)) throw py::value_error("act_prescale: unknown activation type");
        float scale = 1.0f, unscale = 1.0f;
        int rc;
        {
            py::gil_scoped_release nogil;
            rc = ea_act_prescale((const float *)x.data(), (int64_t)x.size(), (ea_type)act_type, nthreads, &scale, &unscale);
        }
        if (rc == EA_ERR_NOMEM) throw std::bad_alloc();
        return py::make_tuple(scale, unscale);
    }, py::arg("x"), py::arg("act_type"), py::arg("threads") = 0,
       "(2**e, 2**-e) putting max|x| near 2**20 (2**10 for q8_1) for the 8-bit activation blocks; (1, 1) for "
       "all-zero or non-finite x (ea_act_prescale, the rule of the native ops).");

    m.def("linear", [](int type, py::array w, int64_t n, int64_t k, int64_t kp, py::array x, py::object bias,
                       py::array y, int nthreads) {
        const ea_type_traits *tr = ea_type_info(type);
        if (!tr || !tr->is_weight) throw py::value_error("linear: not a weight type");
        auto f32 = py::dtype::of<float>();
        if (!x.dtype().is(f32) || !y.dtype().is(f32)) throw py::type_error("linear: x and y must be float32");
        for (py::array *a : {&w, &x, &y})
            if (!(a->flags() & py::array::c_style)) throw py::value_error("linear: arrays must be C-contiguous");
        if (!y.writeable()) throw py::value_error("linear: y must be writable");
        if (n <= 0 || k <= 0 || kp < k || kp % tr->block_size) throw py::value_error("linear: bad n, k or kp");
        if (x.size() % k) throw py::value_error("linear: x is not a whole number of rows of k");
        const int64_t m = x.size() / k;
        if (y.size() != m * n) throw py::value_error("linear: y does not hold m x n floats");
        if ((size_t)w.nbytes() < ea_row_size((ea_type)type, kp) * (size_t)n) throw py::value_error("linear: weight buffer too short");
        const float *bp = nullptr;
        py::array b;
        if (!bias.is_none()) {
            b = py::array::ensure(bias);
            if (!b || !b.dtype().is(f32) || !(b.flags() & py::array::c_style) || b.size() != n)
                throw py::value_error("linear: bias must be float32 [n]");
            bp = (const float *)b.data();
        }
        int rc;
        {
            py::gil_scoped_release nogil;
            rc = ea_linear((ea_type)type, w.data(), n, k, kp, (const float *)x.data(), m, bp, (float *)y.mutable_data(),
                           nthreads);
        }
        if (rc == EA_ERR_NOMEM) throw std::bad_alloc();
        if (rc != EA_OK) throw py::value_error("linear: error " + std::to_string(rc) + " (shape or kernel)");
    }, py::arg("type"), py::arg("w"), py::arg("n"), py::arg("k"), py::arg("kp"), py::arg("x"), py::arg("bias"),
       py::arg("y"), py::arg("threads") = 0,
       "y[..., n] = x[..., k] @ W[n, kp]^T + bias (activation prescale, K zero-padded to kp), in one call.");
}
