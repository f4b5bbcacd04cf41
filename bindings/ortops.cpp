// edgeai's ONNX custom ops (EdgeaiMatMul, EdgeaiConv, EdgeaiConvAdd; domain ai.onnx.contrib) as a native ONNX Runtime
// custom-op library, compiled into edgeai._C. ONNX Runtime dlopens edgeai._C's file
// (SessionOptions.register_custom_ops_library) and calls RegisterCustomOps; each node's kernel then
// calls ea_linear / ea_conv2d / ea_conv2d_nhwc on ONNX Runtime's own input and output buffers: no
// Python, no copies. Semantics are those of edgeai/onnx/ops.py (run_matmul, run_conv), which stays
// as the fallback. Declarations of the ORT C API: ort_api_min.h (the wheel ships no headers).
//
// Errors: every failure returns an OrtStatus whose message starts with "[edgeai:<Type>] " (ShapeError,
// FormatError, ValueError, MemoryError); edgeai.onnx.InferenceSession.run turns it back into that
// exception type. Nothing throws across the C boundary.
//
// Threads: nodes run on the thread that called InferenceSession.run (sequential executor); that call
// sets the kernel thread count of its own thread (set_onnx_op_threads) and a process-wide copy used by
// any other thread, so a node ORT ran elsewhere gets the last session's count (0 = edgeai's global count).
// The kernels' tasks run on ORT's intra-op pool where ORT has KernelContext_ParallelFor (1.17 and
// later; see OrtPoolScope), else on edgeai's own pool.
#include <pybind11/pybind11.h>

#include <atomic>
#include <cctype>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <strings.h>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "ort_api_min.h"

extern "C" {
#include "edgeai_kernels.h"
#include "nn/conv2d.h"
#include "nn/linear.h"
}

namespace py = pybind11;

namespace {

const OrtApi *g_api = nullptr;
std::atomic<bool> g_ort_pool{false};    // ORT serves KernelContext_ParallelFor (set at registration)
thread_local int t_want_ort_pool = -1;    // this thread's set_onnx_op_pool (the session it runs); -1: never set
std::atomic<bool> g_want_ort_pool{true};  // the last choice set by any thread
std::atomic<long long> g_ort_pool_calls{0}; // kernel calls run on ORT's pool (tests: which pool a session used)
const int64_t kChunkBytes = 16 << 20;  // edgeai/onnx/im2col.py CHUNK_BYTES (only bounds memory; bits do not depend on it)

thread_local int t_threads = -1;       // this thread's count from set_onnx_op_threads; -1: never set
std::atomic<int> g_threads{0};         // the last count set by any thread
std::atomic<long long> g_calls{0};     // kernel calls made (tests: the native path ran)
std::atomic<int> g_last_threads{-1};   // thread count of the last call (tests: InferenceSession(threads=) reached it)

template <typename F>
F slot(int index) { return reinterpret_cast<F>(reinterpret_cast<void *const *>(g_api)[index]); }

#define ORT(name) slot<ea_ort_##name##_fn>(EA_ORT_##name)

OrtStatus *fail(int code, const char *type, const char *fmt, ...) {
    char msg[512];
    int n = snprintf(msg, sizeof msg, "[edgeai:%s] ", type);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    return ORT(CreateStatus)(code, msg);
}

std::string shape_str(const std::vector<int64_t> &s) {  // Python's tuple repr: (2, 48), (5,)
    std::string r = "(";
    for (size_t i = 0; i < s.size(); i++) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + (s.size() == 1 ? ",)" : ")");
}

// ---- the node's `params`: one flat JSON object (ints, lists of ints, strings) ----------------------

struct Params {
    std::string fmt, auto_pad = "NOTSET", layout;
    int64_t n = -1, k = -1, kp = -1, group = 1;
    std::vector<int64_t> kernel, strides{1, 1}, pads{0, 0, 0, 0}, dilations{1, 1};
};

struct Json {
    const char *p, *end;
    std::string err;
    void ws() { while (p < end && isspace((unsigned char)*p)) p++; }
    bool lit(char c) { ws(); if (p < end && *p == c) { p++; return true; } return false; }
    bool str(std::string &out) {
        ws();
        if (p >= end || *p != '"') return false;
        p++;
        out.clear();
        while (p < end && *p != '"') {
            if (*p == '\\') {  // keys and values we read are plain ASCII; keep escapes verbatim but skip them whole
                if (++p >= end) return false;
            }
            out += *p++;
        }
        if (p >= end) return false;
        p++;
        return true;
    }
    bool integer(int64_t &v) {
        ws();
        const char *s = p;
        if (p < end && *p == '-') p++;
        if (p >= end || !isdigit((unsigned char)*p)) return false;
        int64_t x = 0;
        while (p < end && isdigit((unsigned char)*p)) {
            if (x > (int64_t)1 << 40) return false;  // no geometry is this large: refuse before overflow
            x = x * 10 + (*p++ - '0');
        }
        if (p < end && (*p == '.' || *p == 'e' || *p == 'E')) return false;
        v = *s == '-' ? -x : x;
        return true;
    }
    bool ints(std::vector<int64_t> &v) {
        if (!lit('[')) return false;
        v.clear();
        if (lit(']')) return true;
        do {
            int64_t x;
            if (!integer(x)) return false;
            v.push_back(x);
        } while (lit(','));
        return lit(']');
    }
    bool skip(int depth = 0) {  // any other value (future keys): skipped
        ws();
        if (p >= end || depth > 16) return false;
        if (*p == '"') { std::string s; return str(s); }
        if (*p == '[' || *p == '{') {
            char close = *p == '[' ? ']' : '}';
            p++;
            if (lit(close)) return true;
            do {
                if (close == '}') { std::string key; if (!str(key) || !lit(':')) return false; }
                if (!skip(depth + 1)) return false;
            } while (lit(','));
            return lit(close);
        }
        const char *s = p;
        while (p < end && (isalnum((unsigned char)*p) || *p == '-' || *p == '+' || *p == '.')) p++;
        return p > s;
    }
};

bool parse_params(const std::string &text, Params &out, std::string &err) {
    Json j{text.data(), text.data() + text.size(), ""};
    if (!j.lit('{')) { err = "params is not a JSON object"; return false; }
    if (!j.lit('}')) {
        do {
            std::string key;
            if (!j.str(key) || !j.lit(':')) { err = "params: bad key"; return false; }
            bool ok;
            if (key == "fmt") ok = j.str(out.fmt);
            else if (key == "auto_pad") ok = j.str(out.auto_pad);
            else if (key == "layout") ok = j.str(out.layout);
            else if (key == "n") ok = j.integer(out.n);
            else if (key == "k") ok = j.integer(out.k);
            else if (key == "kp") ok = j.integer(out.kp);
            else if (key == "group") ok = j.integer(out.group);
            else if (key == "kernel") ok = j.ints(out.kernel);
            else if (key == "strides") ok = j.ints(out.strides);
            else if (key == "pads") ok = j.ints(out.pads);
            else if (key == "dilations") ok = j.ints(out.dilations);
            else ok = j.skip();
            if (!ok) { err = "params: bad value for \"" + key + "\""; return false; }
        } while (j.lit(','));
        if (!j.lit('}')) { err = "params: expected ',' or '}'"; return false; }
    }
    j.ws();
    if (j.p != j.end) { err = "params: text after the object"; return false; }
    return true;
}

// ---- kernels ------------------------------------------------------------------------------------------

enum OpKind { MATMUL, CONV, CONV_ADD };  // CONV_ADD: EdgeaiConvAdd(X, W, B, Z) = EdgeaiConv(X, W, B) + Z

struct Kernel {
    OpKind kind;
    Params p;
    ea_type type;
    int64_t block;
    bool hwc;
};

const char *op_name(OpKind k) { return k == MATMUL ? "EdgeaiMatMul" : k == CONV ? "EdgeaiConv" : "EdgeaiConvAdd"; }
size_t n_inputs(OpKind k) { return k == CONV_ADD ? 4 : 3; }

int type_from_name(const std::string &name) {  // case-insensitive, as edgeai.formats.format_info
    for (int t = 0; t < 256; t++) {
        const ea_type_traits *tr = ea_type_info(t);
        if (tr && tr->name && strcasecmp(tr->name, name.c_str()) == 0) return t;
    }
    return -1;
}

OrtStatus *create_kernel(OpKind kind, const OrtKernelInfo *info, void **out) {
    const char *op = op_name(kind);
    size_t size = 0;
    OrtStatus *st = ORT(KernelInfoGetAttribute_string)(info, "params", nullptr, &size);
    if (st) return st;
    std::string text(size, '\0');
    st = ORT(KernelInfoGetAttribute_string)(info, "params", &text[0], &size);
    if (st) return st;
    text.resize(strnlen(text.c_str(), size));
    auto *k = new (std::nothrow) Kernel();
    if (!k) return fail(EA_ORT_FAIL, "MemoryError", "%s: out of memory", op);
    k->kind = kind;
    std::string err;
    Params &p = k->p;
    int t = -1;
    const char *bad = nullptr;
    if (!parse_params(text, p, err)) bad = err.c_str();
    else if ((t = type_from_name(p.fmt)) < 0 || !ea_type_info(t)->is_weight) {
        OrtStatus *e = fail(EA_ORT_INVALID_ARGUMENT, "FormatError", "%s: unknown weight format '%s'", op, p.fmt.c_str());
        delete k;
        return e;
    } else {
        k->type = (ea_type)t;
        k->block = ea_type_info(t)->block_size;
        if (p.n <= 0 || p.k <= 0 || p.kp < p.k || p.kp % k->block) bad = "params: bad n, k or kp";
        else if (kind != MATMUL) {
            k->hwc = p.layout == "hwc";
            if (p.kernel.size() != 2 || p.strides.size() != 2 || p.pads.size() != 4 || p.dilations.size() != 2)
                bad = "params: kernel, strides, dilations need 2 integers and pads 4";
            else if (p.kernel[0] <= 0 || p.kernel[1] <= 0 || p.strides[0] <= 0 || p.strides[1] <= 0 ||
                     p.dilations[0] <= 0 || p.dilations[1] <= 0 || p.group <= 0)
                bad = "params: kernel, strides, dilations and group must be positive";
            else if (p.pads[0] < 0 || p.pads[1] < 0 || p.pads[2] < 0 || p.pads[3] < 0)
                bad = "params: negative pads";
            else if (p.auto_pad != "NOTSET" && p.auto_pad != "VALID" && p.auto_pad != "SAME_UPPER" &&
                     p.auto_pad != "SAME_LOWER")
                bad = "params: unknown auto_pad";
            else if (!p.layout.empty() && p.layout != "hwc" && p.layout != "chw")
                bad = "params: unknown layout";
        }
    }
    if (bad) {
        OrtStatus *e = fail(EA_ORT_INVALID_ARGUMENT, "ValueError", "%s: %s", op, bad);
        delete k;
        return e;
    }
    *out = k;
    return nullptr;
}

struct Tensor {
    const OrtValue *v = nullptr;
    int type = 0;
    std::vector<int64_t> shape;
    int64_t size = 1;
};

OrtStatus *read_input(OrtKernelContext *ctx, size_t i, Tensor &t) {
    OrtStatus *st = ORT(KernelContext_GetInput)(ctx, i, &t.v);
    if (st) return st;
    if (!t.v) return fail(EA_ORT_INVALID_ARGUMENT, "ValueError", "input %zu is missing", i);
    OrtTensorTypeAndShapeInfo *info = nullptr;
    if ((st = ORT(GetTensorTypeAndShape)(t.v, &info))) return st;
    size_t nd = 0;
    if (!(st = ORT(GetTensorElementType)(info, &t.type)) && !(st = ORT(GetDimensionsCount)(info, &nd))) {
        t.shape.resize(nd);
        st = ORT(GetDimensions)(info, t.shape.data(), nd);
    }
    ORT(ReleaseTensorTypeAndShapeInfo)(info);
    if (st) return st;
    for (int64_t d : t.shape) t.size *= d;
    return nullptr;
}

void *data_of(const OrtValue *v, OrtStatus **st) {
    void *p = nullptr;
    *st = ORT(GetTensorMutableData)(const_cast<OrtValue *>(v), &p);
    return p;
}

// the data pointers of an op's X, W, B (B only when non-empty) and Y
struct IoData {
    const void *x = nullptr, *w = nullptr, *b = nullptr;
    void *y = nullptr;
};

OrtStatus *io_data(const char *op, const Tensor &x, const Tensor &w, const Tensor &b, OrtValue *y, IoData &io) {
    OrtStatus *st = nullptr;
    if (!(io.x = data_of(x.v, &st)) || st) return st ? st : fail(EA_ORT_FAIL, "ValueError", "%s: no input data", op);
    if (!(io.w = data_of(w.v, &st)) || st) return st ? st : fail(EA_ORT_FAIL, "ValueError", "%s: no weight data", op);
    if (b.size && (!(io.b = data_of(b.v, &st)) || st)) return st ? st : fail(EA_ORT_FAIL, "ValueError", "%s: no bias data", op);
    if (!(io.y = data_of(y, &st)) || st) return st ? st : fail(EA_ORT_FAIL, "ValueError", "%s: no output buffer", op);
    return nullptr;
}

int current_threads() { return t_threads >= 0 ? t_threads : g_threads.load(std::memory_order_relaxed); }

OrtStatus *kernel_status(const char *op, int rc) {
    if (rc == EA_OK) return nullptr;
    if (rc == EA_ERR_NOMEM) return fail(EA_ORT_FAIL, "MemoryError", "%s: out of memory", op);
    return fail(EA_ORT_FAIL, "ValueError", "%s: kernel error %d (shape or format)", op, rc);
}

// product of non-negative factors, or -1 past 2**62 (no __int128: 32-bit ARM builds this file too)
int64_t mul(std::initializer_list<int64_t> xs) {
    int64_t r = 1;
    for (int64_t x : xs)
        if (__builtin_mul_overflow(r, x, &r) || r > ((int64_t)1 << 62)) return -1;
    return r;
}

void same_pads(int64_t size, int64_t k, int64_t s, int64_t d, bool upper, int64_t &lo, int64_t &hi) {
    // edgeai/onnx/im2col.py same_pads: pads that make out = ceil(size / stride)
    int64_t out = (size + s - 1) / s;
    int64_t total = (out - 1) * s + d * (k - 1) + 1 - size;
    if (total < 0) total = 0;
    int64_t small = total / 2;
    lo = upper ? small : total - small;
    hi = upper ? total - small : small;
}

int64_t floordiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

OrtStatus *compute(Kernel *kn, OrtKernelContext *ctx) {
    const char *op = op_name(kn->kind);
    const Params &p = kn->p;
    size_t nin = 0;
    OrtStatus *st = ORT(KernelContext_GetInputCount)(ctx, &nin);
    if (st) return st;
    if (nin != n_inputs(kn->kind))
        return fail(EA_ORT_INVALID_ARGUMENT, "ValueError", "%s: expects %zu inputs (X, W, B%s), got %zu", op,
                    n_inputs(kn->kind), kn->kind == CONV_ADD ? ", Z" : "", nin);
    Tensor x, w, b, z;
    if ((st = read_input(ctx, 0, x)) || (st = read_input(ctx, 1, w)) || (st = read_input(ctx, 2, b))) return st;
    if (kn->kind == CONV_ADD && (st = read_input(ctx, 3, z))) return st;
    if (x.type != EA_ORT_FLOAT || w.type != EA_ORT_UINT8 || b.type != EA_ORT_FLOAT ||
        (kn->kind == CONV_ADD && z.type != EA_ORT_FLOAT))
        return fail(EA_ORT_INVALID_ARGUMENT, "ValueError", "%s: inputs must be float32, uint8, float32%s", op,
                    kn->kind == CONV_ADD ? ", float32" : "");
    if (b.size != 0 && b.size != p.n)
        return fail(EA_ORT_INVALID_ARGUMENT, "ShapeError", "%s: bias has %lld values, the op has %lld outputs", op,
                    (long long)b.size, (long long)p.n);
    const int nthreads = current_threads();
    g_calls.fetch_add(1, std::memory_order_relaxed);
    g_last_threads.store(nthreads, std::memory_order_relaxed);

    if (kn->kind == MATMUL) {
        if (x.shape.empty() || x.shape.back() != p.k)
            return fail(EA_ORT_INVALID_ARGUMENT, "ShapeError", "%s: input has shape %s, the weights expect K=%lld", op,
                        shape_str(x.shape).c_str(), (long long)p.k);
        const size_t need = ea_row_size(kn->type, p.kp) * (size_t)p.n;
        if ((size_t)w.size < need)
            return fail(EA_ORT_INVALID_ARGUMENT, "FormatError", "%s: %s weights of %lld x %lld need %zu bytes, got %lld",
                        op, p.fmt.c_str(), (long long)p.n, (long long)p.kp, need, (long long)w.size);
        std::vector<int64_t> yshape(x.shape.begin(), x.shape.end() - 1);
        yshape.push_back(p.n);
        const int64_t m = x.size / p.k;
        OrtValue *y = nullptr;
        if ((st = ORT(KernelContext_GetOutput)(ctx, 0, yshape.data(), yshape.size(), &y))) return st;
        if (m == 0) return nullptr;
        IoData io;
        if ((st = io_data(op, x, w, b, y, io))) return st;
        return kernel_status(op, ea_linear(kn->type, io.w, p.n, p.k, p.kp, (const float *)io.x, m, (const float *)io.b,
                                           (float *)io.y, nthreads));
    }

    // EdgeaiConv
    if (x.shape.size() != 4)
        return fail(EA_ORT_INVALID_ARGUMENT, "ShapeError", "%s: input must be [B, C, H, W], got shape %s", op,
                    shape_str(x.shape).c_str());
    const int64_t bsz = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3];
    const int64_t kh = p.kernel[0], kw = p.kernel[1], sh = p.strides[0], sw = p.strides[1];
    const int64_t dh = p.dilations[0], dw = p.dilations[1], g = p.group;
    int64_t pt = p.pads[0], pl = p.pads[1], pb = p.pads[2], pr = p.pads[3];
    if (p.auto_pad == "SAME_UPPER" || p.auto_pad == "SAME_LOWER") {
        const bool up = p.auto_pad == "SAME_UPPER";
        same_pads(h, kh, sh, dh, up, pt, pb);
        same_pads(wd, kw, sw, dw, up, pl, pr);
    }
    const int64_t cg = c / g;
    if (kn->hwc) {
        if (c % g || cg * kh * kw != p.k || p.n % g || cg % kn->block)
            return fail(EA_ORT_INVALID_ARGUMENT, "ShapeError",
                        "%s: Conv input has %lld channels; the weights expect %lld (group=%lld, kernel=%lldx%lld, "
                        "whole %lld-channel blocks per group)", op, (long long)c, (long long)(p.k / (kh * kw) * g),
                        (long long)g, (long long)kh, (long long)kw, (long long)kn->block);
    } else if (c % g || cg * kh * kw != p.k || p.n % g) {
        return fail(EA_ORT_INVALID_ARGUMENT, "ShapeError",
                    "%s: Conv input has %lld channels; the weights expect %lld (group=%lld, kernel=%lldx%lld)", op,
                    (long long)c, (long long)(p.k / (kh * kw) * g), (long long)g, (long long)kh, (long long)kw);
    }
    // edgeai/onnx/im2col.py conv_output_size (floor division, as Python's //)
    const int64_t oh = floordiv(h + pt + pb - dh * (kh - 1) - 1, sh) + 1;
    const int64_t ow = floordiv(wd + pl + pr - dw * (kw - 1) - 1, sw) + 1;
    if (oh <= 0 || ow <= 0)
        return fail(EA_ORT_INVALID_ARGUMENT, "ShapeError",
                    "%s: Conv output would be empty: input %lldx%lld, kernel %lldx%lld, pads [%lld, %lld, %lld, %lld]",
                    op, (long long)h, (long long)wd, (long long)kh, (long long)kw, (long long)pt, (long long)pl,
                    (long long)pb, (long long)pr);
    const int64_t kpad = kn->hwc ? p.k : p.kp;
    const size_t need = ea_row_size(kn->type, kpad) * (size_t)p.n;
    if (kn->hwc ? (size_t)w.size < need : (size_t)w.size != need)
        return fail(EA_ORT_INVALID_ARGUMENT, "FormatError", "%s: %s weights of %lld x %lld need %zu bytes, got %lld", op,
                    p.fmt.c_str(), (long long)p.n, (long long)kpad, need, (long long)w.size);
    if (mul({bsz, p.n, oh, ow}) < 0)
        return fail(EA_ORT_INVALID_ARGUMENT, "ShapeError", "%s: output too large", op);
    const int64_t yshape[4] = {bsz, p.n, oh, ow};
    // the fused residual must be exactly the conv's output shape (edgeai.onnx.quantize fuses only then)
    if (kn->kind == CONV_ADD && z.shape != std::vector<int64_t>(yshape, yshape + 4))
        return fail(EA_ORT_INVALID_ARGUMENT, "ShapeError", "%s: Z has shape %s, the conv output is %s", op,
                    shape_str(z.shape).c_str(), shape_str(std::vector<int64_t>(yshape, yshape + 4)).c_str());
    OrtValue *y = nullptr;
    if ((st = ORT(KernelContext_GetOutput)(ctx, 0, yshape, 4, &y))) return st;
    if (mul({bsz, p.n, oh, ow}) == 0) return nullptr;
    if (x.size == 0)  // H or W of 0 with padding around it: not a convolution edgeai runs
        return fail(EA_ORT_INVALID_ARGUMENT, "ShapeError", "%s: empty input of shape %s", op, shape_str(x.shape).c_str());
    IoData io;
    if ((st = io_data(op, x, w, b, y, io))) return st;
    const float *zp = nullptr;
    if (kn->kind == CONV_ADD && (!(zp = (const float *)data_of(z.v, &st)) || st))
        return st ? st : fail(EA_ORT_FAIL, "ValueError", "%s: no Z data", op);
    ea_conv2d_geom geo = {bsz, c, h, wd, p.n, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, g, p.k, kpad};
    if (kn->hwc)
        return kernel_status(op, ea_conv2d_nhwc(kn->type, io.w, (const float *)io.x, (const float *)io.b, zp,
                                                (float *)io.y, &geo, nthreads));
    // (c, kh, kw) rows: the activation prescale of ops.py _act_scale, computed by the same rule in C
    float scale = 1.0f, unscale = 1.0f;
    int rc = ea_act_prescale((const float *)io.x, x.size, ea_type_info(kn->type)->act_type, nthreads, &scale, &unscale);
    if (rc != EA_OK) return kernel_status(op, rc);
    return kernel_status(op, ea_conv2d(kn->type, io.w, (const float *)io.x, (const float *)io.b, zp, (float *)io.y, &geo,
                                       scale, unscale, kChunkBytes, nthreads));
}

// ---- OrtCustomOp callbacks ----------------------------------------------------------------------------

struct Op {
    OrtCustomOp base;  // first: ONNX Runtime passes &base back
    OpKind kind;
};

const char *EA_ORT_CALL get_name(const OrtCustomOp *op) { return op_name(((const Op *)op)->kind); }
const char *EA_ORT_CALL get_ep(const OrtCustomOp *) { return "CPUExecutionProvider"; }
int EA_ORT_CALL input_type(const OrtCustomOp *, size_t i) { return i == 1 ? EA_ORT_UINT8 : EA_ORT_FLOAT; }
size_t EA_ORT_CALL input_count(const OrtCustomOp *op) { return n_inputs(((const Op *)op)->kind); }
int EA_ORT_CALL output_type(const OrtCustomOp *, size_t) { return EA_ORT_FLOAT; }
size_t EA_ORT_CALL output_count(const OrtCustomOp *) { return 1; }
int EA_ORT_CALL required(const OrtCustomOp *, size_t) { return 0; }
int EA_ORT_CALL default_mem(const OrtCustomOp *, size_t) { return 0; }
int EA_ORT_CALL one(const OrtCustomOp *) { return 1; }
int EA_ORT_CALL zero(const OrtCustomOp *) { return 0; }
void EA_ORT_CALL destroy(void *k) { delete (Kernel *)k; }

OrtStatus *EA_ORT_CALL create_v2(const OrtCustomOp *op, const OrtApi *, const OrtKernelInfo *info, void **kernel) {
    try {
        return create_kernel(((const Op *)op)->kind, info, kernel);
    } catch (...) {
        return fail(EA_ORT_FAIL, "MemoryError", "%s: out of memory", op_name(((const Op *)op)->kind));
    }
}

// ---- the kernels on ONNX Runtime's intra-op pool ------------------------------------------------------
//
// With their own pool, edgeai's kernels and ORT's ops took turns on the same cores with two sets of
// workers: ORT's had to stop spin-waiting (else they took the cores from edgeai's during its ops),
// and every parallel ORT op then paid a futex wake-up. Terrain UNet, 2 threads: the float ops
// between the convs ran ~1.4x slower than in the float model's session, and the convs scaled 1.47x
// from 1 to 2 threads against ORT's own 1.93x. KernelContext_ParallelFor runs edgeai's tasks on
// ORT's workers instead (ea_set_thread_executor), so they may spin.

struct PoolJob {
    ea_job_run_fn run;
    void *job;
};

void pool_batch(void *usr, size_t i) {
    const PoolJob *j = (const PoolJob *)usr;
    j->run(j->job, (int)i);
}

// ea_executor_fn over ORT's pool: batch i of nworkers runs worker slot i, once each
int ort_executor(void *ectx, int nworkers, ea_job_run_fn run, void *job) {
    PoolJob j{run, job};
    OrtStatus *st = ORT(KernelContext_ParallelFor)((const OrtKernelContext *)ectx, pool_batch, (size_t)nworkers,
                                                   (size_t)nworkers, &j);
    if (!st) return 0;
    ORT(ReleaseStatus)(st);  // ea_parallel_for finishes the job on this thread
    return -1;
}

// the calling thread's ea_parallel_for calls go to ORT's pool while it lives
struct OrtPoolScope {
    const bool on;
    explicit OrtPoolScope(OrtKernelContext *ctx)
        : on(g_ort_pool.load(std::memory_order_relaxed) &&
             (t_want_ort_pool >= 0 ? t_want_ort_pool == 1 : g_want_ort_pool.load(std::memory_order_relaxed))) {
        if (on) {
            ea_set_thread_executor(ort_executor, ctx);
            g_ort_pool_calls.fetch_add(1, std::memory_order_relaxed);
        }
    }
    ~OrtPoolScope() {
        if (on) ea_set_thread_executor(nullptr, nullptr);
    }
};

OrtStatus *EA_ORT_CALL compute_v2(void *kernel, OrtKernelContext *ctx) {
    try {
        OrtPoolScope pool(ctx);
        return compute((Kernel *)kernel, ctx);
    } catch (...) {
        return fail(EA_ORT_FAIL, "MemoryError", "%s: out of memory", op_name(((Kernel *)kernel)->kind));
    }
}

Op make_op(OpKind kind) {
    Op o;
    memset(&o, 0, sizeof o);
    OrtCustomOp &c = o.base;
    c.version = EA_ORT_API_VERSION;
    // CreateKernel and KernelCompute stay NULL: ONNX Runtime 1.16 calls the V2 callbacks (errors returned as
    // OrtStatus) only when KernelCompute is NULL; later versions take V2 whenever it is set
    c.GetName = get_name;
    c.GetExecutionProviderType = get_ep;
    c.GetInputType = input_type;
    c.GetInputTypeCount = input_count;
    c.GetOutputType = output_type;
    c.GetOutputTypeCount = output_count;
    c.KernelDestroy = destroy;
    c.GetInputCharacteristic = required;
    c.GetOutputCharacteristic = required;
    c.GetInputMemoryType = default_mem;
    c.GetVariadicInputMinArity = one;
    c.GetVariadicInputHomogeneity = zero;
    c.GetVariadicOutputMinArity = one;
    c.GetVariadicOutputHomogeneity = zero;
    c.CreateKernelV2 = create_v2;
    c.KernelComputeV2 = compute_v2;
    o.kind = kind;
    return o;
}

Op g_matmul = make_op(MATMUL), g_conv = make_op(CONV), g_conv_add = make_op(CONV_ADD);
OrtCustomOpDomain *g_domain = nullptr;  // shared by every session; lives as long as the process
std::mutex g_mutex;
std::string g_runtime_version;

}  // namespace

// The entry point ONNX Runtime looks up after dlopen (SessionOptions.register_custom_ops_library).
extern "C" __attribute__((visibility("default"))) OrtStatus *RegisterCustomOps(OrtSessionOptions *options,
                                                                                const OrtApiBase *base) {
    std::lock_guard<std::mutex> lock(g_mutex);
    const char *version = base->GetVersionString ? base->GetVersionString() : "?";
    const OrtApi *api = base->GetApi(EA_ORT_API_VERSION);
    if (!api) {
        // an ONNX Runtime older than 1.16: report it with the oldest table it serves (CreateStatus is slot 0
        // in every version), so register_custom_ops_library raises and edgeai falls back to its Python ops
        for (uint32_t v = EA_ORT_API_VERSION - 1; v >= 1 && !api; v--) api = base->GetApi(v);
        if (!api) return nullptr;  // cannot happen (every runtime serves version 1); nothing registered
        return ((ea_ort_CreateStatus_fn)((void *const *)api)[EA_ORT_CreateStatus])(
            EA_ORT_FAIL, ("[edgeai:RuntimeError] ONNX Runtime " + std::string(version) +
                          " is older than 1.16: edgeai's native ops need C API version 16").c_str());
    }
    if (g_api && g_api != api) return fail(EA_ORT_FAIL, "RuntimeError", "two ONNX Runtimes in one process");
    g_api = api;
    g_runtime_version = version;
    // the slot table is ours to get right: check a status round trip before trusting it
    OrtStatus *probe = ORT(CreateStatus)(EA_ORT_INVALID_ARGUMENT, "edgeai-probe");
    bool ok = probe && ORT(GetErrorCode)(probe) == EA_ORT_INVALID_ARGUMENT &&
              strcmp(ORT(GetErrorMessage)(probe), "edgeai-probe") == 0;
    if (probe) ORT(ReleaseStatus)(probe);
    if (!ok) return fail(EA_ORT_FAIL, "RuntimeError", "ONNX Runtime's C API table is not laid out as edgeai expects");
    // GetApi(v) serves every version up to the runtime's own, so a table for this version has the slot;
    // asked only of 1.17+ by its version string (an older GetApi prints an error line for a newer version)
    int major = 0, minor = 0;
    if (sscanf(version, "%d.%d", &major, &minor) == 2 && (major > 1 || (major == 1 && minor >= 17)))
        g_ort_pool.store(base->GetApi(EA_ORT_API_VERSION_PARALLEL_FOR) != nullptr, std::memory_order_relaxed);
    OrtStatus *st;
    if (!g_domain) {
        OrtCustomOpDomain *d = nullptr;
        if ((st = ORT(CreateCustomOpDomain)("ai.onnx.contrib", &d))) return st;
        if ((st = ORT(CustomOpDomain_Add)(d, &g_matmul.base)) || (st = ORT(CustomOpDomain_Add)(d, &g_conv.base)) ||
            (st = ORT(CustomOpDomain_Add)(d, &g_conv_add.base)))
            return st;  // d leaks (once, on an error that cannot recur usefully)
        g_domain = d;
    }
    return ORT(AddCustomOpDomain)(options, g_domain);
}

void ea_bind_ortops(py::module_ &m) {
    m.def("set_onnx_op_threads", [](int n) {
        if (n < 0) throw py::value_error("threads must be >= 0 (0: edgeai's global count)");
        t_threads = n;
        g_threads.store(n, std::memory_order_relaxed);
    }, py::arg("threads"),
          "Kernel threads of edgeai's native ONNX ops run by this thread (and, process-wide, by any other): 0 = global count.");
    m.def("set_onnx_op_pool", [](bool ort) {
        t_want_ort_pool = ort ? 1 : 0;
        g_want_ort_pool.store(ort, std::memory_order_relaxed);
    }, py::arg("ort"),
          "Where the native ops run by this thread (and, process-wide, by any other) put their kernels' threads: "
          "ONNX Runtime's intra-op pool (True, where ORT >= 1.17 serves KernelContext_ParallelFor) or edgeai's (False).");
    m.def("onnx_ops_stats", []() {
        py::dict d;
        d["calls"] = (long long)g_calls.load();
        d["last_threads"] = g_last_threads.load();
        d["runtime"] = g_runtime_version;
        d["registered"] = g_domain != nullptr;
        d["ort_pool"] = g_ort_pool.load();
        d["ort_pool_calls"] = g_ort_pool_calls.load();
        return d;
    }, "Counters of the native ONNX ops: kernel calls, thread count of the last call, ONNX Runtime version.");
}
