"""Every compiled kernel variant this CPU can run, against the portable reference.

Walks the registry (``edgeai.kernels.variants()``, i.e. kernels/variants.inc), so a new variant is
tested by registering it. dot and gemm variants run through ``matmul_with`` on shapes that cover
one tile, less than a tile, more than a tile and tails; activation quantizers are compared byte for
byte. The oracle is the ``__ref`` variant of the same format where it exists, else a float64 numpy
model of the same arithmetic. Also: thread-count invariance and the dispatch order / ISA cap.

Weights are random block bytes (every quant value, incl. q8_0's -128, with finite fp16 scales), so
the test does not depend on any weight quantizer. Set EDGEAI_TEST_QUICK=1 for the lean shape set
the emulated old-x86 lanes run (tests/kernels/test_qemu_x86.py).
"""
import os
import subprocess
import sys
import zlib

import numpy as np
import pytest

import edgeai
import edgeai.kernels as K

QUICK = os.environ.get("EDGEAI_TEST_QUICK") == "1"

# Tolerance of a variant against the reference, per weight format: max |y - y_ref| / sum_k |w_k a_k|.
# Integer block sums are exact, so only the float accumulation order differs (a few float32 ulps
# of the row sum); float formats accumulate K products in float32 against the reference's double.
TOLERANCE = {
    "f32": 2e-5, "f16": 2e-5, "bf16": 2e-5,
    "q4_0": 1e-5, "q4_1": 1e-5, "q5_0": 1e-5, "q5_1": 1e-5, "q8_0": 1e-5,
    "q2_K": 1e-5, "q3_K": 1e-5, "q4_K": 1e-5, "q5_K": 1e-5, "q6_K": 1e-5,
}
# Against the float64 numpy model (used only while a format has no __ref dot).
MODEL_TOLERANCE = 2e-5
# Variants that trade precision for speed by design (the source says how), by name: they replace
# the format's tolerance above.
VARIANT_TOLERANCE = {
    "ea_gemm_f16_f32__neondot": 4e-3,   # FP16 arithmetic: kernels/arm/gemm-f16-f32.h
}

# fp16 scale fields of each weight block: (byte offset, scale of the random values)
_SCALES = {
    "q4_0": [(0, 0.02)], "q5_0": [(0, 0.02)], "q8_0": [(0, 0.01)],
    "q4_1": [(0, 0.02), (2, 0.1)], "q5_1": [(0, 0.02), (2, 0.1)],
    "q2_K": [(80, 0.02), (82, 0.02)], "q3_K": [(108, 0.02)], "q4_K": [(0, 0.02), (2, 0.02)],
    "q5_K": [(0, 0.02), (2, 0.02)], "q6_K": [(208, 0.02)],
}

M_SET = [1, 3, 17] if QUICK else [1, 2, 3, 7, 17, 64]
N_SET = [1, 33] if QUICK else [1, 3, 16, 33]
NB_SET = [1, 3] if QUICK else [1, 2, 3, 9]   # K in blocks of the format (K-quants: 256-multiples)
# Long rows: kernels that cut K into segments (avx512vnni: 64 blocks / 4 KiB of weights) must
# carry partial sums across segment edges, including a partial last segment. 1032 blocks
# (K = 33024 for the 32-element formats) is past what the grouped GEMV's stack prep holds
# (K <= 32768, avx2-gemv.h), so the GEMV falls back to its per-block path.
LONG_K = [] if QUICK else [(260, 17, (1, 9)), (1032, 3, (1,))]  # (blocks, N, M values)
# Tall tiles: the matmul driver cuts M into tiles of 128 rows for the avx512vnni GEMMs
# (EA_MB_AVX512VNNI) and of 64 for the others, so M = 130 ends in a 2-row tile. (Their panels'
# own 128-row groups, past what a driver tile holds, are reached by the C driver, tests/c.)
TALL_M = [] if QUICK else [(3, 33, (130,))]  # (blocks, N, M values)


def random_weights(fmt, n, k, rng):
    """A QuantizedTensor of random block bytes with finite, sane fp16 scales."""
    f = edgeai.FORMATS[fmt]
    if fmt in ("f32", "f16", "bf16"):
        w = rng.standard_normal((n, k)).astype(np.float32)
        if fmt == "f32":
            raw = w.view(np.uint8).reshape(-1)
        elif fmt == "f16":
            raw = w.astype(np.float16).view(np.uint8).reshape(-1)
        else:
            raw = (w.view(np.uint32) >> 16).astype(np.uint16).view(np.uint8).reshape(-1)
        return edgeai.QuantizedTensor(np.ascontiguousarray(raw), fmt, (n, k))
    nb = k // f.block_size
    raw = rng.integers(0, 256, size=(n, nb, f.type_size), dtype=np.uint8)
    for off, scale in _SCALES[fmt]:
        d = (rng.standard_normal((n, nb)) * scale).astype(np.float16)
        raw[:, :, off:off + 2] = d.view(np.uint8).reshape(n, nb, 2)
    return edgeai.QuantizedTensor(raw.reshape(-1), fmt, (n, k))


def _dequant_act(fmt, data, m, k):
    """q8_0 / q8_1 / q8_K activation bytes -> float64 (m, k)."""
    if fmt == "q8_K":
        blk = np.frombuffer(data.tobytes(), dtype=[("d", "<f4"), ("qs", "i1", 256), ("bsums", "<i2", 16)])
        return (blk["d"][:, None].astype(np.float64) * blk["qs"]).reshape(m, k)
    hdr = 2 if fmt == "q8_0" else 4
    b = data.reshape(m, k // 32, 32 + hdr)
    d = b[:, :, 0:2].copy().view(np.float16)[..., 0].astype(np.float64)
    return (d[:, :, None] * b[:, :, hdr:].view(np.int8)).reshape(m, k)


def _q8_1_s_term(qt, adata, m, k):
    """q4_1 / q5_1 kernels use each activation block's stored s (fp16 of d * sum(q)) for the
    m_w * d_a * sum(a) term; the dequantized product has d_a * sum(q) instead. Returns the (m, n)
    difference, so the model reproduces the kernels' arithmetic exactly."""
    n = qt.shape[0]
    mw = qt.data.reshape(n, k // 32, -1)[:, :, 2:4].copy().view(np.float16)[..., 0].astype(np.float64)
    b = adata.reshape(m, k // 32, 36)
    d = b[:, :, 0:2].copy().view(np.float16)[..., 0].astype(np.float64)
    s = b[:, :, 2:4].copy().view(np.float16)[..., 0].astype(np.float64)
    qsum = b[:, :, 4:].view(np.int8).astype(np.int64).sum(axis=2)
    return (s - d * qsum) @ mw.T


def _dequant_weights(qt):
    """Weights -> float64 via the gguf package (independent of our dequantizers)."""
    import gguf
    n, k = qt.shape
    if qt.fmt.name == "f32":
        return qt.data.view(np.float32).reshape(n, k).astype(np.float64)
    if qt.fmt.name == "f16":
        return qt.data.view(np.float16).reshape(n, k).astype(np.float64)
    if qt.fmt.name == "bf16":
        return (qt.data.view(np.uint16).astype(np.uint32) << 16).view(np.float32).reshape(n, k).astype(np.float64)
    t = getattr(gguf.GGMLQuantizationType, qt.fmt.name.upper())
    return gguf.quants.dequantize(qt.data.reshape(n, -1), t).reshape(n, k).astype(np.float64)


def _runnable(op):
    return [v for v in K.variants() if v.op == op and v.supported and v.isa != "ref"]


def _ref(op, fmt):
    return K.find(op, fmt, "ref")


def _act_quantizer(act):
    """The activation quantizer both sides of a comparison use: the reference one if it exists,
    else the best one this CPU runs (its own bytes are checked in test_quantize_variant)."""
    if act == "f32":
        return None
    q = _ref("quantize", act)
    if q is None:
        cands = [v for v in K.variants() if v.op == "quantize" and v.fmt.name == act and v.supported]
        q = cands[-1] if cands else None
    return q


def _k_blocks(fmt):
    bs = edgeai.FORMATS[fmt].block_size
    return 256 if bs == 256 else (32 if bs == 1 else bs)


@pytest.mark.parametrize("variant", _runnable("dot") + _runnable("gemm"), ids=lambda v: v.name)
def test_matmul_variant_matches_reference(variant):
    fmt, act = variant.fmt.name, variant.act.name
    aq = _act_quantizer(act)
    if act != "f32" and aq is None:
        pytest.skip(f"no {act} activation quantizer is compiled for this CPU")
    ref_dot = _ref("dot", fmt)
    rng = np.random.default_rng(zlib.crc32(variant.name.encode()))
    unit = _k_blocks(fmt)
    checked = 0
    if variant.fmt.block_size == 1:  # float weights: any K, so tails of every vector width
        # (and the shapes of attention over an f16 KV cache: k = head_dim 64 or a few hundred
        # positions, m = 1..5 query heads of a GQA group, n = 1..9 and more rows)
        ks = [1, 37] if QUICK else [1, 7, 8, 37, 63, 64, 65, 100, 200, 1000]
        ms = M_SET if QUICK else sorted(set(M_SET) | {4, 5})
        ns = N_SET if QUICK else sorted(set(N_SET) | {2, 4, 5, 6, 7, 8, 9})
        shapes = [(k, n, ms) for k in ks for n in ns]
        shapes += [(32 * nbk + 5, n, ms) for nbk, n, ms in LONG_K]
    else:
        shapes = [(unit * nbk, n, M_SET) for nbk in NB_SET for n in N_SET]
        shapes += [((nbk // 8 if unit == 256 else nbk) * unit, n, ms) for nbk, n, ms in LONG_K]
        shapes += [(unit * nbk, n, ms) for nbk, n, ms in TALL_M]
    for k, n, ms in shapes:
        w = random_weights(fmt, n, k, rng)
        wd = _dequant_weights(w)
        for m in ms:
            x = rng.standard_normal((m, k)).astype(np.float32)
            y = K.matmul_with(x, w, **{variant.op: variant}, quantize=aq, threads=1)
            assert y.shape == (m, n) and np.isfinite(y).all(), (variant.name, m, n, k)
            xa = x.astype(np.float64) if act == "f32" else _dequant_act(act, K.quantize_with(aq, x), m, k)
            if ref_dot is not None:
                y_ref = K.matmul_with(x, w, dot=ref_dot, quantize=aq, threads=1).astype(np.float64)
                tol = VARIANT_TOLERANCE.get(variant.name, TOLERANCE[fmt])
            else:
                y_ref = xa @ wd.T
                if act == "q8_1":
                    y_ref += _q8_1_s_term(w, K.quantize_with(aq, x), m, k)
                tol = VARIANT_TOLERANCE.get(variant.name, MODEL_TOLERANCE)
            # error relative to sum_k |w_k a_k| of each output: the scale float rounding works on,
            # whatever cancellation the sum has
            scale = np.maximum(np.abs(xa) @ np.abs(wd).T, 1e-30)
            err = (np.abs(y.astype(np.float64) - y_ref) / scale).max()
            assert err <= tol, f"{variant.name}: m={m} n={n} k={k}: relative error {err:.3g} > {tol}"
            checked += 1
    assert checked == sum(len(ms) for _, _, ms in shapes)


@pytest.mark.parametrize("variant", [v for v in _runnable("gemm") if v.fmt.name in ("q4_0", "q4_1", "q8_0")],
                         ids=lambda v: v.name)
def test_gemv_row_tails_match_reference(variant):
    """One activation row (the decode GEMV path). The ymm GEMVs work in groups of 8 blocks and
    compile each row tail nb % 8 separately; the AVX-512 q4_0 one works in steps of 16 blocks with
    masked loads for the last 1..15. Every K from 1 to 47 blocks covers each tail of both after
    zero, one and two full groups or steps, e.g. K = 576 (SmolLM2: two groups + 2 blocks)."""
    fmt = variant.fmt.name
    aq = _act_quantizer(variant.act.name)
    ref_dot = _ref("dot", fmt)
    rng = np.random.default_rng(zlib.crc32(variant.name.encode()) + 1)
    nbs = [8, 11, 18, 25, 47] if QUICK else list(range(1, 48))
    for nb in nbs:
        k, n = 32 * nb, 5
        w = random_weights(fmt, n, k, rng)
        wd = _dequant_weights(w)
        x = rng.standard_normal((1, k)).astype(np.float32)
        y = K.matmul_with(x, w, gemm=variant, quantize=aq, threads=1).astype(np.float64)
        y_ref = K.matmul_with(x, w, dot=ref_dot, quantize=aq, threads=1).astype(np.float64)
        xa = _dequant_act(variant.act.name, K.quantize_with(aq, x), 1, k)
        scale = np.maximum(np.abs(xa) @ np.abs(wd).T, 1e-30)
        err = (np.abs(y - y_ref) / scale).max()
        assert err <= TOLERANCE[fmt], f"{variant.name}: k={k} (nb = {nb}): relative error {err:.3g}"


@pytest.mark.parametrize("variant", [v for v in _runnable("gemm") if v.fmt.name == "q8_0"], ids=lambda v: v.name)
def test_q8_0_gemm_with_and_without_minus_128(variant):
    """The AVX2 q8_0 tile skips its per-block -128 check when a call's weights hold none (found once
    per call): weights without any -128 (as every quantizer writes them), and the same weights with a
    single -128 in one block of one row (the per-block path for the whole call), against the reference."""
    aq = _act_quantizer("q8_0")
    ref_dot = _ref("dot", "q8_0")
    rng = np.random.default_rng(13)
    for m, n, nbk in [(17, 33, 9), (64, 16, 3), (2, 5, 1), (9, 7, 36)]:
        k = 32 * nbk
        base = random_weights("q8_0", n, k, rng)
        raw = base.data.reshape(n, nbk, 34).copy()
        qs = raw[:, :, 2:].view(np.int8)
        qs[qs == -128] = -127
        variants = [raw.copy()]
        raw[n // 2, nbk - 1, 2 + 5] = 0x80  # one -128
        variants.append(raw)
        x = rng.standard_normal((m, k)).astype(np.float32)
        for r in variants:
            w = edgeai.QuantizedTensor(r.reshape(-1), "q8_0", (n, k))
            y = K.matmul_with(x, w, gemm=variant, quantize=aq, threads=1).astype(np.float64)
            y_ref = K.matmul_with(x, w, dot=ref_dot, quantize=aq, threads=1).astype(np.float64)
            xa = _dequant_act("q8_0", K.quantize_with(aq, x), m, k)
            scale = np.maximum(np.abs(xa) @ np.abs(_dequant_weights(w)).T, 1e-30)
            err = (np.abs(y - y_ref) / scale).max()
            assert err <= TOLERANCE["q8_0"], f"{variant.name}: m={m} n={n} k={k}: relative error {err:.3g}"


def _q8_model(x, fmt):
    """numpy model of ggml's q8_0 / q8_1 quantization (float32 arithmetic, round half away)."""
    xb = x.reshape(-1, 32).astype(np.float32)
    amax = np.abs(xb).max(axis=1)
    d = (amax / np.float32(127)).astype(np.float32)
    with np.errstate(divide="ignore"):
        idv = np.where(d != 0, np.float32(1) / d, np.float32(0)).astype(np.float32)
    v = (xb * idv[:, None]).astype(np.float32)
    t = np.trunc(v)
    q = (t + np.where(np.abs(v - t) >= 0.5, np.sign(v), 0)).astype(np.int8)
    dh = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    if fmt == "q8_0":
        return np.concatenate([dh, q.view(np.uint8)], axis=1).reshape(-1)
    s = (q.astype(np.int32).sum(axis=1).astype(np.float32) * d).astype(np.float16).view(np.uint8).reshape(-1, 2)
    return np.concatenate([dh, s, q.view(np.uint8)], axis=1).reshape(-1)


def _q8_k_model(x, fmt="q8_K"):
    """numpy model of ggml's q8_K quantization: max = the first element of largest magnitude,
    iscale = -127 / max, q = min(127, round-half-even(iscale * x)), d = 1 / iscale, bsums."""
    xb = x.reshape(-1, 256).astype(np.float32)
    out = np.zeros(len(xb), dtype=[("d", "<f4"), ("qs", "i1", 256), ("bsums", "<i2", 16)])
    for i, row in enumerate(xb):
        amax = np.abs(row).max()
        if amax == 0:
            continue
        mx = row[np.argmax(np.abs(row) == amax)]
        iscale = np.float32(-127.0) / mx
        q = np.minimum(np.rint((row * iscale).astype(np.float32)), 127).astype(np.int8)
        out[i]["qs"] = q
        out[i]["bsums"] = q.astype(np.int32).reshape(16, 16).sum(axis=1)
        out[i]["d"] = np.float32(1.0) / iscale
    return out.view(np.uint8).reshape(-1)


@pytest.mark.parametrize("variant", _runnable("quantize"), ids=lambda v: v.name)
def test_quantize_variant_matches_reference(variant):
    fmt = variant.fmt.name
    rng = np.random.default_rng(7)
    bs = _k_blocks(fmt)
    for rows, nbk in [(1, 1), (3, 2), (5, 9)]:
        x = (rng.standard_normal((rows, bs * nbk)) * rng.uniform(0.01, 100)).astype(np.float32)
        x[0, :bs] = 0.0            # an all-zero block: d = 0
        x[-1, 3] = 1e-30           # a tiny value next to normal ones
        x[-1, bs - 1] = -7.5e-4    # values that land on .5 ties are covered by the random scale
        got = K.quantize_with(variant, x)
        ref = _ref("quantize", fmt)
        models = {"q8_0": _q8_model, "q8_1": _q8_model, "q8_K": _q8_k_model}
        want = K.quantize_with(ref, x) if ref is not None else (models[fmt](x, fmt) if fmt in models else None)
        if want is None:
            pytest.skip(f"no reference quantizer for {fmt} yet")
        assert np.array_equal(got, want), f"{variant.name}: {np.count_nonzero(got != want)} bytes differ"


@pytest.mark.parametrize("variant", [v for v in _runnable("quantize") if v.fmt.name in ("q8_0", "q8_1")],
                         ids=lambda v: v.name)
def test_q8_quantizer_runs_of_blocks_and_ties(variant):
    """Row lengths around the 8-block runs the x86 quantizers work in (7, 8, 9, 16, 17, 31 blocks),
    blocks of very different scales side by side, and exact .5 ties: with max |x| = 127 a block's d
    is 1, so x = k + 0.5 must round away from zero."""
    fmt = variant.fmt.name
    ref = _ref("quantize", fmt)
    rng = np.random.default_rng(11)
    for nbk in (7, 8, 9, 16, 17, 31):
        x = rng.standard_normal((3, 32 * nbk)).astype(np.float32)
        x *= np.repeat(10.0 ** rng.uniform(-6, 6, (3, nbk)), 32, axis=1).astype(np.float32)
        ties = rng.integers(-126, 126, 32 * nbk).astype(np.float32) + 0.5
        ties[::32] = 127.0  # each block's max: d = 1
        x[1] = ties
        x[2, 32:64] = 0.0   # an all-zero block inside a run
        got, want = K.quantize_with(variant, x), K.quantize_with(ref, x)
        assert np.array_equal(got, want), f"{variant.name}, {nbk} blocks: {np.count_nonzero(got != want)} bytes differ"
        qs = want.reshape(3, nbk, -1)[1, :, -32:].view(np.int8)  # row of ties: quants sit after d (and s)
        assert np.array_equal(qs.astype(np.float32), np.trunc(ties.reshape(nbk, 32) + np.copysign(0.5, ties.reshape(nbk, 32))))


def test_q8_model_matches_reference_quantizer():
    """The numpy model used above is itself checked against the C reference where it exists."""
    ref = _ref("quantize", "q8_0")
    x = np.random.default_rng(3).standard_normal((4, 96)).astype(np.float32)
    assert np.array_equal(K.quantize_with(ref, x), _q8_model(x, "q8_0"))


def _dispatchable_weight_formats():
    info = edgeai.cpu_info()["kernels"]
    out = []
    for name, f in edgeai.FORMATS.items():
        if not f.is_weight or not (info[name]["dot"] or info[name]["gemm"]):
            continue
        if f.act_format != "f32" and not info[name].get("activation_quantize"):
            continue  # e.g. q8_1 / q8_K activations under EDGEAI_ISA=ref before their __ref lands
        out.append(name)
    return out


@pytest.mark.parametrize("fmt", _dispatchable_weight_formats())
def test_thread_count_never_changes_bits(fmt):
    rng = np.random.default_rng(11)
    k = _k_blocks(fmt) * 6
    w = random_weights(fmt, 150, k, rng)
    for m in (1, 5, 70):
        x = rng.standard_normal((m, k)).astype(np.float32)
        ys = [edgeai.matmul(x, w, threads=t) for t in (1, 2, 3)]
        assert np.array_equal(ys[0], ys[1]) and np.array_equal(ys[0], ys[2]), (fmt, m)


def _isa_rank():
    return {i["name"]: i["rank"] for i in edgeai.cpu_info()["isas"]}


def _expected(op, fmt, cap_rank):
    """Name of the variant dispatch must pick: highest-ranked runnable one at or under the cap."""
    rank = _isa_rank()
    best = None
    for v in K.variants():
        if v.op == op and v.fmt.name == fmt and v.supported and rank[v.isa] <= cap_rank:
            if best is None or rank[v.isa] > rank[best.isa]:
                best = v
    return best.name if best else None


def test_dispatch_picks_best_supported_isa_under_the_cap():
    info = edgeai.cpu_info()
    rank = _isa_rank()
    usable = [i["name"] for i in info["isas"] if i["compiled"] and i["supported"]]
    before = info["isa_cap"]
    try:
        for cap in usable:
            edgeai.set_isa(cap)
            kernels = edgeai.cpu_info()["kernels"]
            for fmt, ops in kernels.items():
                for op in ("quantize", "dequantize", "dot", "gemm"):
                    assert ops[op] == _expected(op, fmt, rank[cap]), (cap, fmt, op)
        edgeai.set_isa(None)
        kernels = edgeai.cpu_info()["kernels"]
        for fmt, ops in kernels.items():
            for op in ("dot", "gemm"):
                assert ops[op] == _expected(op, fmt, 1 << 20), (fmt, op)
    finally:
        edgeai.set_isa(before)
    with pytest.raises(edgeai.UnsupportedArchitectureError):
        edgeai.set_isa("no-such-isa")


# Formats with an avxvnni dot + gemm (kernels/variants.inc); everything else falls back to avx2.
AVXVNNI_FORMATS = ["q4_0", "q4_1", "q8_0", "q5_0", "q5_1", "q2_K", "q3_K", "q4_K", "q5_K", "q6_K"]


def test_avxvnni_cap_dispatches_its_variants():
    """An AVX-VNNI host without AVX-512 (Alder / Raptor Lake) as seen through the cap: the
    quantized formats run their avxvnni dot and gemm, the activation quantizers and the float
    formats the avx2 ones (no avxvnni variant of those), and matmul takes the avxvnni gemm. A
    Sapphire Rapids host (AVX-VNNI and AVX-512) proves this only through the cap."""
    isas = {i["name"]: i for i in edgeai.cpu_info()["isas"]}
    if not (isas.get("avxvnni", {}).get("compiled") and isas["avxvnni"]["supported"]):
        pytest.skip("this CPU (or build) does not run avxvnni")
    before = edgeai.cpu_info()["isa_cap"]
    try:
        edgeai.set_isa("avxvnni")
        kernels = edgeai.cpu_info()["kernels"]
        for fmt in AVXVNNI_FORMATS:
            assert kernels[fmt]["dot"].endswith("__avxvnni"), kernels[fmt]
            assert kernels[fmt]["gemm"].endswith("__avxvnni"), kernels[fmt]
            assert kernels[fmt]["activation_quantize"].endswith("__avx2"), kernels[fmt]
        for fmt in ("f32", "f16", "bf16"):
            assert kernels[fmt]["dot"].endswith("__avx2"), kernels[fmt]
        assert kernels["f16"]["gemm"] == "ea_gemm_f16_f32__avx2"
        rng = np.random.default_rng(5)
        for fmt in ("q8_0", "q4_0"):
            w = random_weights(fmt, 40, 32 * 9, rng)
            x = rng.standard_normal((19, 32 * 9)).astype(np.float32)
            forced = K.matmul_with(x, w, gemm=K.find("gemm", fmt, "avxvnni"), quantize=K.find("quantize", "q8_0", "avx2"),
                                   threads=1)
            assert np.array_equal(edgeai.matmul(x, w, threads=1), forced), fmt
    finally:
        edgeai.set_isa(before)


def test_edgeai_isa_env_caps_dispatch_at_import():
    usable = [i["name"] for i in edgeai.cpu_info()["isas"] if i["compiled"] and i["supported"]]
    cap = usable[-2] if len(usable) > 1 else usable[-1]
    code = "import edgeai, json; i = edgeai.cpu_info(); print(json.dumps([i['isa_cap'], i['best_isa']]))"
    env = dict(os.environ, EDGEAI_ISA=cap)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f'["{cap}", "{cap}"]'


def test_isa_enabled_follows_support_and_the_cap():
    """ea_isa_enabled (code outside the variant table, e.g. the conv pack's AVX2 transpose and
    absmax, picks its path with it): supported ISAs are enabled with no cap. Before it existed that
    code compared against the cap's rank, which is -1 with no cap, so its AVX2 paths never ran."""
    before = edgeai.cpu_info()["isa_cap"]
    try:
        edgeai.set_isa(None)
        isas = edgeai.cpu_info()["isas"]
        for i in isas:
            assert i["enabled"] == i["supported"], i
        for cap in [i["name"] for i in isas if i["supported"]]:
            edgeai.set_isa(cap)
            rank = {i["name"]: i["rank"] for i in isas}
            for i in edgeai.cpu_info()["isas"]:
                assert i["enabled"] == (i["supported"] and i["rank"] <= rank[cap]), (cap, i)
    finally:
        edgeai.set_isa(before)
