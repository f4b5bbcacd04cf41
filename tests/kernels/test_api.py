"""The public kernel API: shapes, dtypes and the errors bad input gets."""
import numpy as np
import pytest

import edgeai


def test_q8_0_matmul_matches_dequantized_float64():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((40, 96)).astype(np.float32)
    x = rng.standard_normal((3, 96)).astype(np.float32)
    qt = edgeai.quantize(w, "q8_0")
    y = edgeai.matmul(x, qt)
    ref = x.astype(np.float64) @ qt.dequantize().astype(np.float64).T
    # activations are quantized to 8 bits: error ~ |x| * |w| * K / 127 / 2
    assert y.shape == (3, 40)
    assert np.abs(y - ref).max() < 0.05 * np.abs(ref).max()


def test_bad_inputs_raise_clear_errors():
    qt = edgeai.quantize(np.ones((8, 64), np.float32), "q8_0")
    with pytest.raises(TypeError, match="float32"):
        edgeai.matmul(np.ones((1, 64), np.float64), qt)
    with pytest.raises(ValueError, match="K mismatch"):
        edgeai.matmul(np.ones((1, 32), np.float32), qt)
    with pytest.raises(ValueError, match="contiguous"):
        edgeai.matmul(np.ones((64, 2), np.float32).T, qt)
    with pytest.raises(edgeai.FormatError, match="unknown format"):
        edgeai.quantize(np.ones((2, 64), np.float32), "q9_9")
    with pytest.raises(edgeai.FormatError, match="multiple of its block size"):
        edgeai.quantize(np.ones((2, 48), np.float32), "q8_0")
    with pytest.raises(edgeai.FormatError, match="too short"):
        edgeai.QuantizedTensor.from_buffer(bytes(100), "q8_0", (8, 64))


@pytest.mark.parametrize("fmt", ["q4_0", "q4_1", "q8_0", "q4_K", "q6_K", "f16", "f32"])
def test_matmul_group_gives_matmul_bits(fmt):
    """One activation quantization and one pool job for several weights: every output keeps the
    bits of its own matmul, for the GEMV (m = 1), small-m and tiled GEMM paths, shapes like a
    layer's Q/K/V (a big weight with two small ones) and any thread count."""
    rng = np.random.default_rng(7)
    k = 512
    ws = [edgeai.quantize(rng.standard_normal((n, k)).astype(np.float32), fmt) for n in (384, 48, 48)]
    for m in (1, 3, 9, 64, 130):
        x = rng.standard_normal((m, k)).astype(np.float32)
        for threads in (1, 2):
            outs = edgeai.matmul_group(x, ws, threads=threads)
            assert [o.shape for o in outs] == [(m, 384), (m, 48), (m, 48)]
            for o, w in zip(outs, ws):
                np.testing.assert_array_equal(o, edgeai.matmul(x, w, threads=1), err_msg=f"{fmt} m={m} t={threads}")
    # a 1-D x as matmul takes it
    outs = edgeai.matmul_group(x[0], ws)
    assert outs[1].shape == (48,) and np.array_equal(outs[1], edgeai.matmul(x[0], ws[1]))


def test_matmul_group_bad_inputs_raise():
    rng = np.random.default_rng(8)
    a = edgeai.quantize(rng.standard_normal((16, 64)).astype(np.float32), "q8_0")
    b = edgeai.quantize(rng.standard_normal((16, 64)).astype(np.float32), "q4_0")
    c = edgeai.quantize(rng.standard_normal((16, 128)).astype(np.float32), "q8_0")
    x = np.ones((2, 64), np.float32)
    with pytest.raises(edgeai.FormatError, match="share one format"):
        edgeai.matmul_group(x, [a, b])
    with pytest.raises(ValueError, match="K mismatch"):
        edgeai.matmul_group(x, [a, c])
    with pytest.raises(ValueError, match="1 to 8 weights"):
        edgeai.matmul_group(x, [])
    with pytest.raises(ValueError, match="1 to 8 weights"):
        edgeai.matmul_group(x, [a] * 9)
    with pytest.raises(TypeError, match="float32"):
        edgeai.matmul_group(x.astype(np.float64), [a])
    with pytest.raises(TypeError, match="QuantizedTensor"):
        edgeai.matmul_group(x, [a, np.ones((16, 64), np.float32)])
