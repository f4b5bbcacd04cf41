"""Quantize a weight matrix, multiply with it, and see which kernel ran.

    python examples/quantize_matmul.py [format]
"""
import sys
import time

import numpy as np

import edgeai

fmt = sys.argv[1] if len(sys.argv) > 1 else "q4_0"
rng = np.random.default_rng(0)

# W (N, K): an LLM feed-forward projection, 1536 x 576 like SmolLM2's
w = rng.standard_normal((1536, 576)).astype(np.float32)
qw = edgeai.quantize(w, fmt)
print(f"{fmt}: {qw.nbytes / 1e6:.2f} MB vs {w.nbytes / 1e6:.2f} MB float32 "
      f"({qw.fmt.bits_per_weight:.2f} bits per weight)")
print("quantization RMSE:", float(np.sqrt(np.mean((qw.dequantize() - w) ** 2))))

# GEMV: x (1, K) @ W^T -> (1, N), the LLM decode case
x = rng.standard_normal((1, 576)).astype(np.float32)
y = edgeai.matmul(x, qw)
exact = x @ w.T
print("GEMV relative error vs float32:", float(np.linalg.norm(y - exact) / np.linalg.norm(exact)))

# GEMM: 64 rows at once (prompt processing), into a preallocated output
xs = rng.standard_normal((64, 576)).astype(np.float32)
out = np.empty((64, 1536), np.float32)
t = time.perf_counter()
edgeai.matmul(xs, qw, out=out, threads=1)
print(f"GEMM 64x576 @ 576x1536 on 1 thread: {(time.perf_counter() - t) * 1e3:.2f} ms")

# zero-copy: wrap existing bytes (a GGUF memmap in real use) without copying
view = edgeai.QuantizedTensor.from_buffer(qw.data.tobytes(), fmt, qw.shape)
assert np.array_equal(edgeai.matmul(x, view), y)

info = edgeai.cpu_info()
print("best ISA here:", info["best_isa"], "| dot kernel:", info["kernels"][qw.fmt.name]["dot"],
      "| gemm kernel:", info["kernels"][qw.fmt.name]["gemm"])
