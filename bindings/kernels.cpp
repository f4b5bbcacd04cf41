// Thin pybind11 glue over kernels/edgeai_kernels.h. Shapes and sizes are checked here too (the
// Python layer checks first, with friendlier messages); every C call runs without the GIL.
#include <vector>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>
#include <string>

extern "C" {
#include "edgeai_kernels.h"
#include "core/cpu.h"
}

namespace py = pybind11;

namespace {

const ea_type_traits &traits(int type) {
    const ea_type_traits *tr = ea_type_info(type);
    if (!tr) throw py::value_error("unknown ea_type id " + std::to_string(type));
    return *tr;
}

void check(int rc, const char *what) {
    switch (rc) {
    case EA_OK: return;
    case EA_ERR_TYPE: throw py::value_error(std::string(what) + ": unsupported type");
    case EA_ERR_SHAPE: throw py::value_error(std::string(what) + ": k is not a multiple of the block size");
    case EA_ERR_NOMEM: throw std::bad_alloc();
    case EA_ERR_NOKERNEL: throw py::value_error(std::string(what) + ": no kernel for this type");
    default: throw std::runtime_error(std::string(what) + ": error " + std::to_string(rc));
    }
}

// A C-contiguous, writable-or-not view; raises instead of copying.
const void *cptr(const py::array &a, const char *name) {
    if (!(a.flags() & py::array::c_style)) throw py::value_error(std::string(name) + " must be C-contiguous");
    return a.data();
}

void *wptr(py::array &a, const char *name) {
    if (!(a.flags() & py::array::c_style)) throw py::value_error(std::string(name) + " must be C-contiguous");
    if (!a.writeable()) throw py::value_error(std::string(name) + " must be writable");
    return a.mutable_data();
}

void need_f32(const py::array &a, const char *name) {
    if (!a.dtype().is(py::dtype::of<float>())) throw py::type_error(std::string(name) + " must be float32");
}

const ea_variant *variant(int64_t idx, ea_op op) {
    if (idx < 0) return nullptr;
    const ea_variant *v = ea_variant_at((size_t)idx);
    if (!v) throw py::index_error("no kernel variant " + std::to_string(idx));
    if (v->op != op) throw py::value_error(std::string(v->name) + " is not of the requested op");
    if (!ea_isa_supported(v->isa)) throw py::value_error(std::string(v->name) + ": this CPU cannot run it");
    return v;
}

const char *op_name(ea_op op) {
    static const char *names[] = {"quantize", "dequantize", "dot", "gemm"};
    return names[op];
}

void rows_convert(bool quant, const ea_variant *v, int type, py::array src, py::array dst, int64_t rows,
                  int64_t k) {
    const ea_type_traits &tr = traits(type);
    size_t qbytes = ea_row_size((ea_type)type, k) * (size_t)rows;
    size_t fbytes = (size_t)k * (size_t)rows * sizeof(float);
    if (rows < 0 || k < 0 || k % tr.block_size) throw py::value_error("k must be a multiple of the block size");
    if ((size_t)src.nbytes() < (quant ? fbytes : qbytes)) throw py::value_error("source buffer too short");
    if ((size_t)dst.nbytes() < (quant ? qbytes : fbytes)) throw py::value_error("destination buffer too short");
    if (quant) need_f32(src, "x"); else need_f32(dst, "out");
    const void *s = cptr(src, "source");
    void *d = wptr(dst, "destination");
    int rc;
    {
        py::gil_scoped_release nogil;
        if (v) {
            // one explicit variant (tests walk every one)
            for (int64_t r = 0; r < rows; r++) {
                if (quant)
                    ((ea_quantize_fn)v->fn)((const float *)s + r * k, (char *)d + r * ea_row_size((ea_type)type, k), k);
                else
                    ((ea_dequantize_fn)v->fn)((const char *)s + r * ea_row_size((ea_type)type, k), (float *)d + r * k, k);
            }
            rc = EA_OK;
        } else {
            rc = quant ? ea_quantize_rows((ea_type)type, (const float *)s, d, rows, k)
                       : ea_dequantize_rows((ea_type)type, s, (float *)d, rows, k);
        }
    }
    check(rc, quant ? "quantize" : "dequantize");
}

}  // namespace

void ea_bind_kernels(py::module_ &m) {
    m.def("types", []() {
        py::list out;
        for (int t = 0; t < EA_TYPE_MAX; t++) {
            const ea_type_traits *tr = ea_type_info(t);
            if (!tr) continue;
            py::dict d;
            d["id"] = t;
            d["name"] = tr->name;
            d["block_size"] = tr->block_size;
            d["type_size"] = tr->type_size;
            d["act_type"] = (int)tr->act_type;
            d["is_weight"] = (bool)tr->is_weight;
            out.append(d);
        }
        return out;
    }, "All tensor types: dicts of id, name, block_size, type_size, act_type, is_weight.");

    m.def("variants", []() {
        py::list out;
        for (size_t i = 0; i < ea_variant_count(); i++) {
            const ea_variant *v = ea_variant_at(i);
            py::dict d;
            d["index"] = i;
            d["name"] = v->name;
            d["op"] = op_name(v->op);
            d["wtype"] = (int)v->wtype;
            d["atype"] = (int)v->atype;
            d["isa"] = ea_isa_name(v->isa);
            d["supported"] = (bool)ea_isa_supported(v->isa);
            out.append(d);
        }
        return out;
    }, "Every compiled kernel variant (variants.inc), with whether this CPU can run it.");

    m.def("isas", []() {
        py::list out;
        for (int i = 0; i < EA_ISA_COUNT; i++) {
            if (ea_isa_rank((ea_isa)i) < 0) continue;
            py::dict d;
            d["name"] = ea_isa_name((ea_isa)i);
            d["rank"] = ea_isa_rank((ea_isa)i);
            d["compiled"] = (bool)ea_isa_compiled((ea_isa)i);
            d["supported"] = (bool)ea_isa_supported((ea_isa)i);
            d["enabled"] = (bool)ea_isa_enabled((ea_isa)i); /* supported and under the cap */
            out.append(d);
        }
        return out;
    }, "ISAs of this architecture in priority order (lowest first).");

    m.def("all_isa_names", []() {
        py::list out;
        for (int i = 0; i < EA_ISA_COUNT; i++) out.append(ea_isa_name((ea_isa)i));
        return out;
    });

    m.def("cpu_features", []() {
        py::list out;
        uint64_t f = ea_cpu_features();
        for (int b = 0; b < 64; b++)
            if ((f >> b) & 1) {
                const char *n = ea_cpu_feature_name(b);
                if (n) out.append(n);
            }
        return out;
    }, "CPU features detected at start-up (CPUID+XGETBV on x86, HWCAP on ARM).");

    m.def("set_isa_cap", [](py::object name) {
        if (name.is_none()) {
            ea_set_isa_cap(EA_ISA_COUNT);
            return;
        }
        std::string s = py::str(name);
        int isa = ea_isa_from_name(s.c_str());
        if (isa < 0) throw py::value_error("unknown ISA '" + s + "'");
        if (ea_set_isa_cap((ea_isa)isa) != EA_OK)
            throw py::value_error("ISA '" + s + "' is not of this CPU architecture");
    }, py::arg("name"));

    m.def("get_isa_cap", []() -> py::object {
        ea_isa cap = ea_get_isa_cap();
        if (cap == EA_ISA_COUNT) return py::none();
        return py::str(ea_isa_name(cap));
    });

    m.def("dispatch", [](const std::string &op, int type) -> py::object {
        static const char *names[] = {"quantize", "dequantize", "dot", "gemm"};
        for (int o = 0; o < EA_OP_COUNT; o++)
            if (op == names[o]) {
                const ea_variant *v = ea_dispatch((ea_op)o, (ea_type)type);
                if (!v) return py::none();
                return py::str(v->name);
            }
        throw py::value_error("unknown op '" + op + "'");
    }, py::arg("op"), py::arg("type"), "Name of the variant chosen for (op, type), or None.");

    m.def("set_num_threads", [](int n) { ea_set_num_threads(n); }, py::arg("n"));
    m.def("get_num_threads", []() { return ea_get_num_threads(); });

    m.def("quantize", [](int type, py::array x, py::array out, int64_t rows, int64_t k, int64_t variant_idx) {
        rows_convert(true, variant(variant_idx, EA_OP_QUANTIZE), type, x, out, rows, k);
    }, py::arg("type"), py::arg("x"), py::arg("out"), py::arg("rows"), py::arg("k"), py::arg("variant") = -1);

    m.def("dequantize", [](int type, py::array data, py::array out, int64_t rows, int64_t k, int64_t variant_idx) {
        rows_convert(false, variant(variant_idx, EA_OP_DEQUANTIZE), type, data, out, rows, k);
    }, py::arg("type"), py::arg("data"), py::arg("out"), py::arg("rows"), py::arg("k"), py::arg("variant") = -1);

    m.def("matmul", [](int type, py::array w, int64_t n, int64_t k, py::array x, py::array y, int64_t m,
                       int nthreads, int64_t aq, int64_t dot, int64_t gemm) {
        const ea_type_traits &tr = traits(type);
        if (!tr.is_weight) throw py::value_error(std::string(tr.name) + " is not a weight type");
        if (k <= 0 || k % tr.block_size) throw py::value_error("k must be a positive multiple of the block size");
        if (n < 0 || m < 0) throw py::value_error("negative size");
        if ((size_t)w.nbytes() < ea_row_size((ea_type)type, k) * (size_t)n) throw py::value_error("weight buffer too short");
        need_f32(x, "x");
        need_f32(y, "out");
        if ((size_t)x.nbytes() < (size_t)(m * k) * 4) throw py::value_error("x too short");
        if ((size_t)y.nbytes() < (size_t)(m * n) * 4) throw py::value_error("out too short");
        const void *wp = cptr(w, "weights");
        const float *xp = (const float *)cptr(x, "x");
        float *yp = (float *)wptr(y, "out");
        int rc;
        if (aq < 0 && dot < 0 && gemm < 0) {
            py::gil_scoped_release nogil;
            rc = ea_matmul((ea_type)type, wp, n, k, xp, m, yp, nthreads);
        } else {
            const ea_variant *vq = variant(aq, EA_OP_QUANTIZE), *vd = variant(dot, EA_OP_DOT),
                             *vg = variant(gemm, EA_OP_GEMM);
            if (vd && vd->wtype != type) throw py::value_error(std::string(vd->name) + " does not take this weight type");
            if (vg && vg->wtype != type) throw py::value_error(std::string(vg->name) + " does not take this weight type");
            py::gil_scoped_release nogil;
            rc = ea_matmul_with((ea_type)type, wp, n, k, xp, m, yp, nthreads, vq, vd, vg);
        }
        check(rc, "matmul");
    }, py::arg("type"), py::arg("w"), py::arg("n"), py::arg("k"), py::arg("x"), py::arg("out"), py::arg("m"),
       py::arg("threads") = 0, py::arg("quantize_variant") = -1, py::arg("dot_variant") = -1,
       py::arg("gemm_variant") = -1,
       "out[m, n] = x[m, k] @ W[n, k]^T; explicit variant indices (>= 0) bypass the dispatch.");

    m.def("matmul_group", [](int type, py::list ws, int64_t k, py::array x, py::list outs, int64_t m, int nthreads) {
        const ea_type_traits &tr = traits(type);
        if (!tr.is_weight) throw py::value_error(std::string(tr.name) + " is not a weight type");
        if (k <= 0 || k % tr.block_size) throw py::value_error("k must be a positive multiple of the block size");
        if (m < 0) throw py::value_error("negative size");
        const size_t count = ws.size();
        if (count < 1 || count > EA_MATMUL_GROUP_MAX || outs.size() != count)
            throw py::value_error("matmul_group takes 1.." + std::to_string(EA_MATMUL_GROUP_MAX) +
                                  " weights and as many outputs");
        need_f32(x, "x");
        if ((size_t)x.nbytes() < (size_t)(m * k) * 4) throw py::value_error("x too short");
        std::vector<const void *> wp(count);
        std::vector<float *> yp(count);
        std::vector<int64_t> n(count);
        for (size_t i = 0; i < count; i++) {
            py::array w = ws[i].cast<py::array>(), y = outs[i].cast<py::array>();
            need_f32(y, "out");
            if (m > 0 && y.nbytes() % (m * 4)) throw py::value_error("out " + std::to_string(i) + " is not (m, n)");
            n[i] = m > 0 ? (int64_t)(y.nbytes() / (m * 4)) : 0;
            if ((size_t)w.nbytes() < ea_row_size((ea_type)type, k) * (size_t)n[i])
                throw py::value_error("weight buffer " + std::to_string(i) + " too short for its output");
            wp[i] = cptr(w, "weights");
            yp[i] = (float *)wptr(y, "out");  // ws and outs (held by the caller) keep both alive
        }
        const float *xp = (const float *)cptr(x, "x");
        int rc;
        {
            py::gil_scoped_release nogil;
            rc = ea_matmul_group((ea_type)type, (int)count, wp.data(), n.data(), k, xp, m, yp.data(), nthreads);
        }
        check(rc, "matmul_group");
    }, py::arg("type"), py::arg("ws"), py::arg("k"), py::arg("x"), py::arg("outs"), py::arg("m"), py::arg("threads") = 0,
       "outs[i][m, n_i] = x[m, k] @ ws[i][n_i, k]^T, one activation quantization and one pool job (n_i from outs[i]).");
}
