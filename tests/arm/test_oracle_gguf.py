"""The C driver's fallback oracle (tests/c/oracle.c) decodes every block format exactly as the
`gguf` package's numpy dequantize does, bit for bit. The ARM variants are checked against that
oracle wherever the registry has no __ref yet, so this ties them to an independent implementation
of the GGUF formats."""
import ctypes
import os
import subprocess

import numpy as np
import pytest

gguf = pytest.importorskip("gguf", reason="gguf (the test extra) is the independent oracle here")
from gguf import GGMLQuantizationType as T  # noqa: E402
from gguf import quants  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# format -> (block bytes, elements per block, byte offsets of its fp16 scales); Q8_0 has a ref already
FORMATS = {
    T.Q4_0: (18, 32, [0]), T.Q4_1: (20, 32, [0, 2]), T.Q5_0: (22, 32, [0]), T.Q5_1: (24, 32, [0, 2]),
    T.Q2_K: (84, 256, [80, 82]), T.Q3_K: (110, 256, [108]),
    T.Q4_K: (144, 256, [0, 2]), T.Q5_K: (176, 256, [0, 2]), T.Q6_K: (210, 256, [208]),
}


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    """oracle.c built as a shared library for the host, with a dequantize entry point."""
    d = tmp_path_factory.mktemp("oracle")
    shim = d / "shim.c"
    shim.write_text('#include "oracle.c"\n'
                    "int shim_dequant(int t, const void *x, float *y, long k) {\n"
                    "    void (*f)(void) = oracle_fn(EA_OP_DEQUANTIZE, t);\n"
                    "    if (!f) return -1;\n"
                    "    ((ea_dequantize_fn)f)(x, y, k);\n"
                    "    return 0;\n}\n"
                    "int shim_quant(int t, const float *x, void *y, long k) {\n"
                    "    void (*f)(void) = oracle_fn(EA_OP_QUANTIZE, t);\n"
                    "    if (!f) return -1;\n"
                    "    ((ea_quantize_fn)f)(x, y, k);\n"
                    "    return 0;\n}\n")
    lib = d / "oracle.so"
    subprocess.run(["gcc", "-std=c11", "-O1", "-shared", "-fPIC", "-I", os.path.join(ROOT, "kernels"),
                    "-I", os.path.join(ROOT, "tests", "c"), str(shim), "-o", str(lib), "-lm"], check=True)
    return ctypes.CDLL(str(lib))


@pytest.mark.parametrize("fmt", list(FORMATS), ids=[f.name for f in FORMATS])
def test_oracle_decodes_like_gguf(oracle, fmt):
    nbytes, qk, scales = FORMATS[fmt]
    rng = np.random.default_rng(int(fmt))
    nb = 16
    # any bit pattern is a valid block once its fp16 scales are finite: random bytes cover every
    # nibble, high bit, packed 6-bit scale and sign
    blocks = rng.integers(0, 256, size=(nb, nbytes), dtype=np.uint8)
    for off in scales:
        blocks[:, off:off + 2] = np.float16(rng.uniform(-0.1, 0.1, nb)).view(np.uint8).reshape(nb, 2)
    raw = blocks.reshape(-1).copy()
    want = np.asarray(quants.dequantize(raw, fmt), dtype=np.float32).reshape(-1)
    got = np.full(nb * qk, np.nan, np.float32)
    rc = oracle.shim_dequant(int(fmt), raw.ctypes.data_as(ctypes.c_void_p), got.ctypes.data_as(ctypes.c_void_p),
                             ctypes.c_long(nb * qk))
    assert rc == 0, f"the oracle has no {fmt.name} decoder"
    bad = np.flatnonzero(want.view(np.uint32) != got.view(np.uint32))
    assert bad.size == 0, f"{fmt.name}: element {bad[0]}: oracle {got[bad[0]]!r}, gguf {want[bad[0]]!r}"


@pytest.mark.parametrize("fmt", [T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1], ids=["Q4_0", "Q4_1", "Q5_0", "Q5_1"])
def test_oracle_quantizes_like_gguf(oracle, fmt):
    """gguf has quantizers for these: the oracle's (which the ARM quantizers match) are byte-equal."""
    nbytes, qk, _ = FORMATS[fmt]
    rng = np.random.default_rng(100 + int(fmt))
    nb = 64
    x = (rng.standard_normal((nb, qk)) * rng.uniform(1e-3, 10, (nb, 1))).astype(np.float32)
    x[3] = 0.0                                  # an all-zero block
    x[5, 7], x[5, 9] = 4.0, -4.0                # +a and -a: the first one sets the sign
    x = x.reshape(-1).copy()
    want = np.asarray(quants.quantize(x.reshape(1, -1), fmt)).reshape(-1)
    got = np.zeros(nb * nbytes, np.uint8)
    rc = oracle.shim_quant(int(fmt), x.ctypes.data_as(ctypes.c_void_p), got.ctypes.data_as(ctypes.c_void_p),
                           ctypes.c_long(x.size))
    assert rc == 0, f"the oracle has no {fmt.name} quantizer"
    bad = np.flatnonzero(want != got)
    assert bad.size == 0, f"{fmt.name}: first differing byte {bad[0]} (block {bad[0] // nbytes})"
