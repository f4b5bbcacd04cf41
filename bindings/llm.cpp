// pybind11 glue for kernels/model/llama-forward.c: a decoder object that holds the model
// description (pointers into numpy arrays it keeps alive) and runs one decode step without the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

extern "C" {
#include "edgeai_kernels.h"
#include "model/act.h"
#include "model/attn-prefill.h"
#include "model/norm.h"
#include "model/rope.h"
#include "model/llama-forward.h"
}

namespace py = pybind11;

namespace {

class Decoder {
  public:
    Decoder(py::dict cfg, py::tuple tok_embd, py::tuple output, py::array output_norm, py::list layers,
            py::array kcache, py::array vcache, py::object freq_factors) {
        std::memset(&m_, 0, sizeof(m_));
        m_.n_layer = cfg["n_layer"].cast<int>();
        m_.d = cfg["d"].cast<int>();
        m_.n_head = cfg["n_head"].cast<int>();
        m_.n_kv = cfg["n_kv"].cast<int>();
        m_.hd = cfg["hd"].cast<int>();
        m_.ff = cfg["ff"].cast<int>();
        m_.vocab = cfg["vocab"].cast<int>();
        m_.n_ctx = cfg["n_ctx"].cast<int>();
        m_.rope_dim = cfg["rope_dim"].cast<int>();
        m_.rope_neox = cfg["rope_neox"].cast<int>();
        m_.act_gelu = cfg["act_gelu"].cast<int>();
        m_.sliding_window = cfg["sliding_window"].cast<int>();
        m_.sw_pattern = cfg["sw_pattern"].cast<int>();
        m_.eps = cfg["eps"].cast<float>();
        m_.rope_theta = cfg["rope_theta"].cast<float>();
        m_.rope_scale = cfg["rope_scale"].cast<float>();
        m_.rope_local_theta = cfg["rope_local_theta"].cast<float>();
        m_.attn_scale = cfg["attn_scale"].cast<float>();
        m_.embed_scale = cfg["embed_scale"].cast<float>();
        m_.final_softcap = cfg["final_softcap"].cast<float>();
        m_.tok_embd = mat(tok_embd);
        m_.output = mat(output);
        m_.output_norm = vec(output_norm, m_.d, "output_norm");
        if ((int)py::len(layers) != m_.n_layer) throw py::value_error("need one dict per layer");
        layers_.resize(m_.n_layer);
        for (int l = 0; l < m_.n_layer; l++) {
            py::dict L = layers[l].cast<py::dict>();
            ea_layer &e = layers_[l];
            std::memset(&e, 0, sizeof(e));
            int64_t qd = (int64_t)m_.n_head * m_.hd, kvd = (int64_t)m_.n_kv * m_.hd;
            e.attn_norm = vec(L["attn_norm"], m_.d, "attn_norm");
            e.ffn_norm = vec(L["ffn_norm"], m_.d, "ffn_norm");
            e.wq = mat(L["wq"]);
            e.wk = mat(L["wk"]);
            e.wv = mat(L["wv"]);
            e.wo = mat(L["wo"]);
            e.gate = mat(L["gate"]);
            e.up = mat(L["up"]);
            e.down = mat(L["down"]);
            e.bq = opt_vec(L, "bq", qd);
            e.bk = opt_vec(L, "bk", kvd);
            e.bv = opt_vec(L, "bv", kvd);
            e.q_norm = opt_vec(L, "q_norm", m_.hd);
            e.k_norm = opt_vec(L, "k_norm", m_.hd);
            e.post_attn_norm = opt_vec(L, "post_attn_norm", m_.d);
            e.post_ffn_norm = opt_vec(L, "post_ffn_norm", m_.d);
            if ((e.bq != nullptr) != (e.bk != nullptr) || (e.bk != nullptr) != (e.bv != nullptr))
                throw py::value_error("q, k, v biases must come together");
            if ((e.q_norm != nullptr) != (e.k_norm != nullptr)) throw py::value_error("q and k norms must come together");
        }
        m_.layers = layers_.data();
        if (!freq_factors.is_none()) m_.rope_freq_factors = vec(freq_factors.cast<py::array>(), m_.rope_dim / 2, "freq");
        size_t elems = (size_t)m_.n_layer * m_.n_kv * m_.n_ctx * m_.hd;
        bool f16 = kcache.dtype().is(py::dtype("float16"));
        if (!f16 && !kcache.dtype().is(py::dtype::of<float>())) throw py::type_error("KV cache must be float16 or float32");
        if (!kcache.dtype().is(vcache.dtype())) throw py::type_error("K and V caches must have one dtype");
        for (py::array *a : {&kcache, &vcache}) {
            if ((size_t)a->size() != elems) throw py::value_error("KV cache has the wrong size");
            if (!(a->flags() & py::array::c_style) || !a->writeable()) throw py::value_error("KV cache must be C-contiguous and writable");
            keep_.append(*a);
        }
        m_.kcache = kcache.mutable_data();
        m_.vcache = vcache.mutable_data();
        m_.kv_f16 = f16;
        char err[256] = {0};
        ws_ = ea_llm_ws_new(&m_, err, sizeof err);
        if (!ws_) throw py::value_error(std::string("llm decoder: ") + err);
    }

    ~Decoder() { ea_llm_ws_free(ws_); }

    void decode(int token, int pos, py::array logits, int nthreads) {
        if (!logits.dtype().is(py::dtype::of<float>()) || logits.size() != m_.vocab ||
            !(logits.flags() & py::array::c_style) || !logits.writeable())
            throw py::value_error("logits must be a writable C-contiguous float32 array of vocab elements");
        if (token < 0 || token >= m_.vocab) throw py::value_error("token id out of range");
        if (pos < 0 || pos >= m_.n_ctx) throw py::value_error("position out of the context");
        float *out = (float *)logits.mutable_data();
        int rc;
        {
            py::gil_scoped_release nogil;
            rc = ea_llm_decode(&m_, ws_, token, pos, out, nthreads);
        }
        if (rc != EA_OK) throw std::runtime_error("llm decode failed: " + std::to_string(rc));
    }

  private:
    ea_mat mat(py::handle h) {
        py::tuple t = h.cast<py::tuple>();
        if (py::len(t) != 4) throw py::value_error("a matrix is (type_id, uint8 array, rows, k)");
        py::array a = t[1].cast<py::array>();
        ea_mat w;
        w.type = (ea_type)t[0].cast<int>();
        w.rows = t[2].cast<int64_t>();
        w.k = t[3].cast<int64_t>();
        size_t row = ea_row_size(w.type, w.k);
        if (row == 0 || (size_t)a.nbytes() < row * (size_t)w.rows) throw py::value_error("matrix buffer too short");
        if (!(a.flags() & py::array::c_style)) throw py::value_error("matrix buffer must be C-contiguous");
        w.data = a.data();
        keep_.append(a);
        return w;
    }

    const float *vec(py::handle h, int64_t n, const char *what) {
        py::array a = h.cast<py::array>();
        if (!a.dtype().is(py::dtype::of<float>()) || a.size() != n || !(a.flags() & py::array::c_style))
            throw py::value_error(std::string(what) + ": need a C-contiguous float32 vector of " + std::to_string(n));
        keep_.append(a);
        return (const float *)a.data();
    }

    const float *opt_vec(py::dict &L, const char *key, int64_t n) {
        if (!L.contains(key) || L[key].is_none()) return nullptr;
        return vec(L[key], n, key);
    }

    ea_llm m_;
    std::vector<ea_layer> layers_;
    ea_llm_ws *ws_ = nullptr;
    py::list keep_;  // the arrays the pointers point into
};

// prefill attention (kernels/model/attn-prefill.h) over one layer's f16 cache arrays
py::array_t<float> attention_prefill(py::array q, py::array kc, py::array vc, int64_t pos0, int window, float scale,
                                     int threads) {
    if (!q.dtype().is(py::dtype::of<float>()))
        throw py::type_error("attention_prefill: q must be float32, got " + std::string(py::str(q.dtype())));
    const py::dtype half("float16");
    if (!kc.dtype().is(half) || !vc.dtype().is(half))
        throw py::type_error("attention_prefill: the cache must be float16, got " + std::string(py::str(kc.dtype())) +
                             " and " + std::string(py::str(vc.dtype())));
    if (q.ndim() != 3 || kc.ndim() != 3 || vc.ndim() != 3)
        throw py::value_error("attention_prefill: q must be (T, n_head, hd), kc (n_kv, cap, hd), vc (n_kv, hd, cap)");
    if (!(q.flags() & py::array::c_style) || !(kc.flags() & py::array::c_style) || !(vc.flags() & py::array::c_style))
        throw py::value_error("attention_prefill: q, kc and vc must be C-contiguous");
    const int64_t T = q.shape(0), H = q.shape(1), hd = q.shape(2), KV = kc.shape(0), cap = kc.shape(1);
    if (kc.shape(2) != hd || vc.shape(0) != KV || vc.shape(1) != hd || vc.shape(2) != cap)
        throw py::value_error("attention_prefill: cache shapes " + std::string(py::str(py::make_tuple(kc.shape(0), kc.shape(1), kc.shape(2)))) +
                              " / " + std::string(py::str(py::make_tuple(vc.shape(0), vc.shape(1), vc.shape(2)))) +
                              " do not fit q's head_dim " + std::to_string(hd));
    if (H == 0 || KV == 0 || H % KV != 0)
        throw py::value_error("attention_prefill: n_head (" + std::to_string(H) + ") must be a multiple of n_kv (" +
                              std::to_string(KV) + ")");
    if (pos0 < 0 || window < 0 || pos0 + T > cap)
        throw py::value_error("attention_prefill: positions " + std::to_string(pos0) + " .. " + std::to_string(pos0 + T) +
                              " do not fit a cache of " + std::to_string(cap) + " (window " + std::to_string(window) + ")");
    if (T > INT32_MAX || H * hd > INT32_MAX) throw py::value_error("attention_prefill: too large");
    py::array_t<float> out({T, H * hd});
    const float *qp = static_cast<const float *>(q.data());
    const uint16_t *kp = static_cast<const uint16_t *>(kc.data()), *vp = static_cast<const uint16_t *>(vc.data());
    float *op = out.mutable_data();
    int rc;
    {
        py::gil_scoped_release nogil;
        rc = ea_attn_prefill(qp, (int)T, (int)H, (int)KV, (int)hd, kp, vp, cap, pos0, window, scale, op, threads);
    }
    if (rc == EA_ERR_NOMEM) throw std::bad_alloc();
    if (rc != EA_OK) throw std::runtime_error("attention_prefill: kernel error " + std::to_string(rc));
    return out;
}

// rmsnorm of every row of x (..., n) with weights w (n), on the pool in fixed blocks of rows
struct NormJob {
    const float *x, *w;
    float *y;
    int64_t rows, n;
    float eps;
};
constexpr int64_t kNormRows = 8;

void norm_task(void *ctx, int64_t t, int) {
    const NormJob *j = static_cast<const NormJob *>(ctx);
    const int64_t r1 = (t + 1) * kNormRows < j->rows ? (t + 1) * kNormRows : j->rows;
    for (int64_t r = t * kNormRows; r < r1; r++) ea_rmsnorm(j->y + r * j->n, j->x + r * j->n, j->w, j->n, j->eps);
}

py::array_t<float> rmsnorm(py::array x, py::array w, float eps, int threads) {
    if (!x.dtype().is(py::dtype::of<float>()) || !w.dtype().is(py::dtype::of<float>()))
        throw py::type_error("rmsnorm: x and w must be float32, got " + std::string(py::str(x.dtype())) + " and " +
                             std::string(py::str(w.dtype())));
    if (!(x.flags() & py::array::c_style) || !(w.flags() & py::array::c_style))
        throw py::value_error("rmsnorm: x and w must be C-contiguous");
    if (x.ndim() < 1 || w.ndim() != 1 || w.shape(0) == 0 || x.shape(x.ndim() - 1) != w.shape(0))
        throw py::value_error("rmsnorm: x (..., n) needs w of shape (n,), got n = " +
                              std::to_string(x.ndim() ? x.shape(x.ndim() - 1) : 0) + " and w " +
                              std::to_string(w.ndim() ? w.shape(0) : 0));
    std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim());
    py::array_t<float> y(shape);
    NormJob j{static_cast<const float *>(x.data()), static_cast<const float *>(w.data()), y.mutable_data(),
              (int64_t)(x.size() / w.shape(0)), (int64_t)w.shape(0), eps};
    if (j.rows == 0) return y;
    const int64_t tasks = (j.rows + kNormRows - 1) / kNormRows;
    py::gil_scoped_release nogil;
    ea_parallel_for(tasks, norm_task, &j, tasks > 1 ? threads : 1);
    return y;
}

// rope of x (T, heads, hd) in place, with cos / sin (T, rope_dim / 2), on the pool in fixed blocks of rows
struct RopeJob {
    float *x;
    const float *c, *s;
    int64_t rows;
    int heads, hd, rope_dim, neox;
};
constexpr int64_t kRopeRows = 8;

void rope_task(void *ctx, int64_t t, int) {
    const RopeJob *j = static_cast<const RopeJob *>(ctx);
    const int64_t r0 = t * kRopeRows, n = j->rows - r0 < kRopeRows ? j->rows - r0 : kRopeRows;
    const int64_t half = j->rope_dim / 2;
    ea_rope(j->x + r0 * j->heads * j->hd, n, j->heads, j->hd, j->rope_dim, j->neox, j->c + r0 * half,
            j->s + r0 * half);
}

void rope(py::array x, py::array cos, py::array sin, int rope_dim, bool neox, int threads) {
    const auto f32 = py::dtype::of<float>();
    if (!x.dtype().is(f32) || !cos.dtype().is(f32) || !sin.dtype().is(f32))
        throw py::type_error("rope: x, cos and sin must be float32, got " + std::string(py::str(x.dtype())) + ", " +
                             std::string(py::str(cos.dtype())) + " and " + std::string(py::str(sin.dtype())));
    if (!(x.flags() & py::array::c_style) || !(cos.flags() & py::array::c_style) || !(sin.flags() & py::array::c_style))
        throw py::value_error("rope: x, cos and sin must be C-contiguous");
    if (!x.writeable()) throw py::value_error("rope: x must be writeable");
    if (x.ndim() != 3) throw py::value_error("rope: x must be (T, heads, hd), got " + std::to_string(x.ndim()) + " dims");
    const int64_t T = x.shape(0), hd = x.shape(2);
    if (rope_dim < 2 || rope_dim % 2 || rope_dim > hd)
        throw py::value_error("rope: rope_dim must be even, >= 2 and <= hd = " + std::to_string(hd) + ", got " +
                              std::to_string(rope_dim));
    for (const py::array *t : {&cos, &sin})
        if (t->ndim() != 2 || t->shape(0) != T || t->shape(1) != rope_dim / 2)
            throw py::value_error("rope: cos and sin must be (T, rope_dim / 2) = (" + std::to_string(T) + ", " +
                                  std::to_string(rope_dim / 2) + ")");
    RopeJob j{static_cast<float *>(x.mutable_data()), static_cast<const float *>(cos.data()),
              static_cast<const float *>(sin.data()), T, (int)x.shape(1), (int)hd, rope_dim, neox ? 1 : 0};
    if (T == 0 || j.heads == 0) return;
    const int64_t tasks = (T + kRopeRows - 1) / kRopeRows;
    py::gil_scoped_release nogil;
    ea_parallel_for(tasks, rope_task, &j, tasks > 1 ? threads : 1);
}

}  // namespace

/* GGUF string arrays (vocabularies, merges: 50k-250k strings) decoded in one pass: the Python loop
 * took ~0.15 s of SmolLM2's ~0.35 s load. Returns (strings, end offset), or on a truncated array
 * (None, offset of the piece that does not fit, bytes it needs) for the caller's error message. */
static py::tuple gguf_strings(py::buffer buf, uint64_t pos, uint64_t count) {
    py::buffer_info info = buf.request();
    const uint8_t *b = static_cast<const uint8_t *>(info.ptr);
    const uint64_t end = (uint64_t)(info.size * info.itemsize);
    py::list out(0);
    for (uint64_t i = 0; i < count; i++) {
        if (pos > end || end - pos < 8) return py::make_tuple(py::none(), pos, 8);
        uint64_t n;
        std::memcpy(&n, b + pos, 8);  // little-endian hosts only (x86-64, aarch64, armv7 as built)
        pos += 8;
        if (end - pos < n) return py::make_tuple(py::none(), pos, n);
        PyObject *str = PyUnicode_DecodeUTF8(reinterpret_cast<const char *>(b + pos), (Py_ssize_t)n, "replace");
        if (!str) throw py::error_already_set();
        out.append(py::reinterpret_steal<py::object>(str));
        pos += n;
    }
    return py::make_tuple(out, pos);
}

namespace {

// silu_mul over the pool in fixed chunks of 16384 elements: ea_silu_mul gives the same bits for any
// n or alignment, so neither the split nor the thread count changes the result
struct SiluJob {
    float *g;
    const float *u;
    int64_t n;
};
constexpr int64_t kSiluChunk = 16384;

void silu_task(void *ctx, int64_t t, int) {
    const SiluJob *j = static_cast<const SiluJob *>(ctx);
    const int64_t i0 = t * kSiluChunk, n = j->n - i0 < kSiluChunk ? j->n - i0 : kSiluChunk;
    ea_silu_mul(j->g + i0, j->u + i0, n);
}

// gate <- silu(gate) * up, in place; both float32, C-contiguous, same shape
void silu_mul(py::array gate, py::array up, int threads) {
    if (!gate.dtype().is(py::dtype::of<float>()) || !up.dtype().is(py::dtype::of<float>()))
        throw py::type_error("silu_mul: gate and up must be float32, got " + std::string(py::str(gate.dtype())) +
                             " and " + std::string(py::str(up.dtype())));
    if (!(gate.flags() & py::array::c_style) || !(up.flags() & py::array::c_style))
        throw py::value_error("silu_mul: gate and up must be C-contiguous");
    if (!gate.writeable()) throw py::value_error("silu_mul: gate must be writeable");
    bool same = gate.ndim() == up.ndim();
    for (py::ssize_t i = 0; same && i < gate.ndim(); i++) same = gate.shape(i) == up.shape(i);
    if (!same) throw py::value_error("silu_mul: gate and up must have the same shape");
    SiluJob j{static_cast<float *>(gate.mutable_data()), static_cast<const float *>(up.data()), (int64_t)gate.size()};
    if (j.n == 0) return;
    const int64_t tasks = (j.n + kSiluChunk - 1) / kSiluChunk;
    py::gil_scoped_release nogil;
    ea_parallel_for(tasks, silu_task, &j, tasks > 1 ? threads : 1);
}

// the same through one ISA's code, on the calling thread (tests compare their bits)
void silu_mul_isa(py::array gate, py::array up, const std::string &isa) {
    if (!gate.dtype().is(py::dtype::of<float>()) || !up.dtype().is(py::dtype::of<float>()))
        throw py::type_error("silu_mul_isa: gate and up must be float32");
    if (!(gate.flags() & py::array::c_style) || !(up.flags() & py::array::c_style) || !gate.writeable())
        throw py::value_error("silu_mul_isa: gate and up must be C-contiguous, gate writeable");
    if (gate.size() != up.size()) throw py::value_error("silu_mul_isa: gate and up must have the same size");
    const int id = ea_isa_from_name(isa.c_str());
    if (id < 0) throw py::value_error("unknown ISA " + isa);
    if (ea_silu_mul_isa(id, static_cast<float *>(gate.mutable_data()), static_cast<const float *>(up.data()),
                        (int64_t)gate.size()) != EA_OK)
        throw std::runtime_error("no " + isa + " silu_mul in this build or on this CPU");
}

}  // namespace

void ea_bind_llm(py::module_ &m) {
    m.def("silu_mul_isa", &silu_mul_isa, py::arg("gate"), py::arg("up"), py::arg("isa"),
          "silu_mul through one ISA's code (\"ref\", \"avx2\", \"avx512vnni\"), one thread; RuntimeError "
          "when this build or CPU has none.");
    m.def("silu_mul", &silu_mul, py::arg("gate"), py::arg("up"), py::arg("threads") = 0,
          "gate <- silu(gate) * up in place (float32, C-contiguous, same shape), on the kernel pool "
          "(threads 0: the global count). Same bits as the C decode step's feed-forward.");
    m.def("attention_prefill", &attention_prefill, py::arg("q"), py::arg("kc"), py::arg("vc"), py::arg("pos0"),
          py::arg("window"), py::arg("scale"), py::arg("threads") = 0,
          "Causal GQA attention of q (T, n_head, hd) float32 at positions pos0.. over one layer's float16 cache "
          "kc (n_kv, cap, hd), vc (n_kv, hd, cap); window 0: none. Returns (T, n_head * hd) float32, on the kernel "
          "pool, bit-identical for any thread count.");
    m.def("rmsnorm", &rmsnorm, py::arg("x"), py::arg("w"), py::arg("eps"), py::arg("threads") = 0,
          "x (..., n) / rms(x) * w (n), per row, float32 C-contiguous, on the kernel pool: the C decode step's "
          "ea_rmsnorm, so the same bits.");
    m.def("rope", &rope, py::arg("x"), py::arg("cos"), py::arg("sin"), py::arg("rope_dim"), py::arg("neox"),
          py::arg("threads") = 0,
          "Rotate x (T, heads, hd) float32 in place with cos / sin (T, rope_dim / 2): pairs (i, i + rope_dim / 2) "
          "if neox, else (2i, 2i + 1), on the kernel pool, with the C decode step's ea_rope; the same bits for any "
          "thread count.");
    m.def("gguf_strings", &gguf_strings, py::arg("buf"), py::arg("pos"), py::arg("count"),
          "Decode `count` GGUF strings (u64 length + UTF-8 bytes) from `buf` at `pos`: (list, end) or "
          "(None, pos, needed) if the buffer ends first.");
    py::class_<Decoder>(m, "LLMDecoder", "One-token decode step of a llama-family model in C.")
        .def(py::init<py::dict, py::tuple, py::tuple, py::array, py::list, py::array, py::array, py::object>(),
             py::arg("config"), py::arg("tok_embd"), py::arg("output"), py::arg("output_norm"), py::arg("layers"),
             py::arg("kcache"), py::arg("vcache"), py::arg("rope_freq_factors") = py::none())
        .def("decode", &Decoder::decode, py::arg("token"), py::arg("pos"), py::arg("logits"), py::arg("threads") = 0,
             "Run one token at `pos`, write its K/V into the cache and the logits into `logits`.");
}
