"""GGUF block formats byte for byte: our C dequantize equals gguf-py's numpy dequantize bit for bit
for every format, and our quantize equals gguf-py's quantize byte for byte where it has one."""
import numpy as np
import pytest

import edgeai

gguf = pytest.importorskip("gguf", reason="the gguf package is the byte-exact oracle (pip install gguf)")
from gguf import GGMLQuantizationType as GT  # noqa: E402

QUANT_FORMATS = ["q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_K", "q3_K", "q4_K", "q5_K", "q6_K"]
GGUF_QUANTIZERS = ["q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "f16", "bf16"]
# byte offsets of the fp16 scale fields in each block (random bytes there could be inf/nan)
SCALE_FIELDS = {"q8_0": [0], "q4_0": [0], "q4_1": [0, 2], "q5_0": [0], "q5_1": [0, 2],
                "q2_K": [80, 82], "q3_K": [108], "q4_K": [0, 2], "q5_K": [0, 2], "q6_K": [208]}


def gtype(name):
    return getattr(GT, name.upper())


def random_blocks(fmt, nblocks, rng):
    """Random bytes with finite fp16 scales spanning tiny to large magnitudes."""
    f = edgeai.FORMATS[fmt]
    raw = rng.integers(0, 256, size=(nblocks, f.type_size), dtype=np.uint8)
    for off in SCALE_FIELDS[fmt]:
        mags = rng.choice([1e-7, 1e-3, 1.0, 300.0], size=nblocks) * rng.standard_normal(nblocks)
        raw[:, off:off + 2] = mags.astype(np.float16).view(np.uint8).reshape(nblocks, 2)
    return raw


@pytest.mark.parametrize("fmt", QUANT_FORMATS)
def test_dequantize_bit_exact_with_gguf(fmt):
    rng = np.random.default_rng(7)
    f = edgeai.FORMATS[fmt]
    k = 4 * max(f.block_size, 256)
    rows = 6
    raw = random_blocks(fmt, rows * k // f.block_size, rng)
    qt = edgeai.QuantizedTensor(raw.reshape(-1), fmt, (rows, k))
    ours = qt.dequantize()
    theirs = gguf.dequantize(raw.reshape(rows, -1), gtype(fmt)).astype(np.float32).reshape(rows, k)
    assert np.array_equal(ours.view(np.uint32), theirs.view(np.uint32))


@pytest.mark.parametrize("fmt", ["f16", "bf16"])
def test_float_formats_dequantize_bit_exact(fmt):
    rng = np.random.default_rng(8)
    x = (rng.standard_normal((4, 96)) * rng.choice([1e-6, 1, 1e4], size=(4, 1))).astype(np.float32)
    data = gguf.quantize(x, gtype(fmt))
    qt = edgeai.QuantizedTensor(data.reshape(-1).view(np.uint8), fmt, x.shape)
    theirs = gguf.dequantize(data, gtype(fmt)).astype(np.float32)
    assert np.array_equal(qt.dequantize().view(np.uint32), theirs.view(np.uint32))


def tricky_rows(rng, k):
    x = rng.standard_normal((12, k)).astype(np.float32)
    x[1] *= 1e-6                     # tiny scales (subnormal fp16 territory)
    x[2] *= 5e3                      # large scales
    x[3, :32] = 0.0                  # an all-zero block
    x[4, :32] = -0.0                 # negative zeros
    x[5, :32] = np.linspace(-1, 1, 32)  # exact ties after scaling
    x[6, :32] = 0.5                  # constant block (max == min)
    x[7, 3], x[7, 9] = 4.0, -4.0     # +max and -max in one block: the first wins
    x[8] = np.round(x[8] * 8) / 8    # values on the quantization grid
    x[9, :32] = np.arange(32) - 16.0
    x[10] = np.abs(x[10])            # all positive: min > 0
    x[11] = -np.abs(x[11])           # all negative
    return x


@pytest.mark.parametrize("fmt", GGUF_QUANTIZERS)
def test_quantize_byte_exact_with_gguf(fmt):
    rng = np.random.default_rng(9)
    x = tricky_rows(rng, 256)
    ours = edgeai.quantize(x, fmt).data
    theirs = gguf.quantize(x, gtype(fmt)).reshape(-1).view(np.uint8)
    assert ours.nbytes == theirs.nbytes
    bad = np.flatnonzero(ours != theirs)
    assert bad.size == 0, f"{fmt}: {bad.size} bytes differ, first at {bad[:5]}"


@pytest.mark.parametrize("fmt,bound", [("q2_K", 0.30), ("q3_K", 0.16), ("q4_K", 0.08), ("q5_K", 0.04),
                                       ("q6_K", 0.02)])
def test_kquant_quantize_error_bounds(fmt, bound):
    """Our K-quant quantizers (own algorithm): RMSE on unit gaussians, and never worse than the
    32-element format of the same bit width where one exists."""
    rng = np.random.default_rng(10)
    x = rng.standard_normal((32, 1024)).astype(np.float32)
    qt = edgeai.quantize(x, fmt)
    rmse = float(np.sqrt(np.mean((qt.dequantize() - x) ** 2)))
    assert rmse < bound
    twin = {"q4_K": "q4_0", "q5_K": "q5_0"}.get(fmt)
    if twin:
        assert rmse < float(np.sqrt(np.mean((edgeai.quantize(x, twin).dequantize() - x) ** 2)))
    # quantize(dequantize(q)) reproduces the same values: the fit is stable on its own grid
    again = edgeai.quantize(qt.dequantize(), fmt).dequantize()
    assert np.sqrt(np.mean((again - qt.dequantize()) ** 2)) < 0.25 * rmse


def test_quantize_roundtrip_bounds_32_element_formats():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((16, 512)).astype(np.float32)
    blocks = x.reshape(-1, 32)
    amax, span = np.abs(blocks).max(1), blocks.max(1) - blocks.min(1)
    # (step, allowed error in steps): the _0 formats map the signed extreme to -8 / -16, so the
    # opposite extreme may clip by up to one step; rounding formats are off by half a step
    cases = {"q8_0": (amax / 127, 0.5), "q4_0": (amax / 8, 1.0), "q5_0": (amax / 16, 1.0),
             "q4_1": (span / 15, 0.5), "q5_1": (span / 31, 0.5)}
    for fmt, (step, steps) in cases.items():
        dq = edgeai.quantize(x, fmt).dequantize()
        # plus the fp16 rounding (2^-11 relative) of the scale and the minimum
        bound = steps * step + 32 * step * 2.0 ** -11 + amax * 2.0 ** -11 + 1e-6
        assert np.all(np.abs(dq - x).reshape(-1, 32).max(1) <= bound), fmt


def test_zero_copy_over_a_gguf_memmap(tmp_path):
    rng = np.random.default_rng(12)
    w = rng.standard_normal((48, 256)).astype(np.float32)
    path = tmp_path / "t.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_tensor("w", gguf.quantize(w, GT.Q4_1), raw_dtype=GT.Q4_1)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    reader = gguf.GGUFReader(str(path))
    t = reader.tensors[0]
    mm = reader.data  # np.memmap of the whole file
    qt = edgeai.QuantizedTensor.from_buffer(mm, "q4_1", (48, 256), offset=int(t.data_offset))
    assert np.shares_memory(qt.data, mm)
    assert np.array_equal(qt.dequantize(), gguf.dequantize(t.data, GT.Q4_1).reshape(48, 256))
