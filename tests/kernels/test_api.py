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
