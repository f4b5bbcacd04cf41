"""The portable reference kernels against float64 numpy.

Each __ref dot is checked against float64 numpy on exactly what it multiplies: the dequantized
weights and the dequantized (quantized) activations. The integer block sums are exact, so what is
left is float32 rounding: the tolerance is a few float32 ulps of sum |w| |a|."""
import numpy as np
import pytest

import edgeai
from edgeai import kernels as K

REF_DOTS = [v for v in K.variants() if v.op == "dot" and v.isa == "ref"]


@pytest.mark.parametrize("dot", REF_DOTS, ids=lambda v: v.name)
@pytest.mark.parametrize("m", [1, 2, 3, 7, 17, 64])
def test_ref_dot_matches_float64(dot, m):
    rng = np.random.default_rng(m)
    bs = dot.fmt.block_size
    k = bs * (3 if bs > 1 else 97) if bs >= 256 else 9 * max(bs, 32)
    n = 5
    w = (rng.standard_normal((n, k)) * rng.choice([0.01, 1, 30], size=(n, 1))).astype(np.float32)
    qt = edgeai.quantize(w, dot.fmt.name)
    x = (rng.standard_normal((m, k)) * rng.choice([0.01, 1, 30], size=(m, 1))).astype(np.float32)
    y = K.matmul_with(x, qt, dot=dot)
    wd = qt.dequantize().astype(np.float64)
    if dot.act.name == "f32":
        xd = x.astype(np.float64)
    else:
        aq = K.find("quantize", dot.act.name, "ref")
        adq = K.find("dequantize", dot.act.name, "ref")
        xd = K.dequantize_with(adq, K.quantize_with(aq, x), m, k).astype(np.float64)
    exact = xd @ wd.T
    scale = np.abs(xd) @ np.abs(wd).T
    # float32 accumulation over k / block_size blocks of exactly-summed integers
    tol = 8 * np.finfo(np.float32).eps * scale * np.sqrt(k / max(bs, 1)) + 1e-30
    if dot.act.name == "q8_1":
        # q8_1 carries s = d * sum(q) rounded to fp16: the offset term m * s is off by 2^-11 |m s|
        mw = np.abs(qt.data.reshape(-1, dot.fmt.type_size)[:, 2:4].copy().view(np.float16).astype(np.float64))
        sa = np.abs(K.quantize_with(aq, x).reshape(-1, dot.act.type_size)[:, 2:4].copy().view(np.float16)
                    .astype(np.float64))
        tol = tol + 2.0 ** -11 * (sa.reshape(m, -1) @ mw.reshape(n, -1).T)
    assert np.all(np.abs(y - exact) <= tol), f"max excess {np.max(np.abs(y - exact) / tol)}"


@pytest.mark.parametrize("act", ["q8_0", "q8_1", "q8_K"])
def test_activation_quantizers_match_a_float64_model(act):
    """q8 activations: d = max|x| / 127 (q8_K: the signed max maps to -127), error <= d/2 (+ fp16 of d)."""
    rng = np.random.default_rng(3)
    f = edgeai.FORMATS[act]
    k = 4 * f.block_size
    x = (rng.standard_normal((6, k)) * rng.choice([1e-4, 1, 1e3], size=(6, 1))).astype(np.float32)
    x[0, : f.block_size] = 0.0
    q = K.quantize_with(K.find("quantize", act, "ref"), x)
    dq = K.dequantize_with(K.find("dequantize", act, "ref"), q, 6, k).astype(np.float64)
    blocks = x.reshape(-1, f.block_size).astype(np.float64)
    d = np.abs(blocks).max(1, keepdims=True) / 127
    fp16_slack = 0 if act == "q8_K" else 127 * d * 2.0 ** -11  # q8_K keeps d as float32
    assert np.all(np.abs(dq.reshape(blocks.shape) - blocks) <= 0.5 * d * (1 + 1e-6) + fp16_slack + 1e-30)
    assert np.all(dq.reshape(blocks.shape)[0] == 0)
    if act == "q8_1":  # s = d * sum(q), the offset term of q4_1 / q5_1 dots
        raw = q.reshape(-1, f.type_size)
        d16 = raw[:, 0:2].copy().view(np.float16).astype(np.float64).ravel()
        s16 = raw[:, 2:4].copy().view(np.float16).astype(np.float64).ravel()
        qs = raw[:, 4:].view(np.int8).astype(np.float64)
        assert np.allclose(s16, qs.sum(1) * d16, rtol=2e-3, atol=1e-30)
    if act == "q8_K":  # bsums: sums of each 16 quants
        raw = q.reshape(-1, f.type_size)
        qs = raw[:, 4:260].view(np.int8).astype(np.int64)
        bsums = raw[:, 260:292].copy().view(np.int16).astype(np.int64)
        assert np.array_equal(bsums, qs.reshape(-1, 16, 16).sum(2))


def test_k_not_multiple_of_block_is_rejected():
    for fmt in ["q4_0", "q4_K"]:
        with pytest.raises(edgeai.FormatError, match="multiple"):
            edgeai.quantize(np.ones((2, 48), np.float32), fmt)
