"""edgeai q4_0 vs ONNX Runtime's own 4-bit quantization (MatMulNBits, blocks of 32) of the same model.

The terrain UNet keeps its weights in Conv / Gemm, which MatMulNBits does not quantize, so the
comparison runs on the tiny SD UNet's 40 MatMul layers: the same nodes in both, same inputs,
fidelity against float32 ONNX Runtime and the bytes of the 4-bit weights.
"""
import numpy as np
import onnxruntime as ort
import pytest
from diffusion_helpers import psnr

from edgeai.onnx import InferenceSession


@pytest.fixture(scope="module")
def unet_feeds():
    rng = np.random.default_rng(0)
    return {"sample": rng.standard_normal((2, 4, 16, 16)).astype(np.float32),
            "timestep": np.array([500.0, 20.0], np.float32),
            "encoder_hidden_states": rng.standard_normal((2, 77, 32)).astype(np.float32)}


def _session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def test_q4_0_matches_onnxruntime_matmulnbits(tiny_sd, unet_feeds, tmp_path):
    import onnx
    from onnx import numpy_helper
    pytest.importorskip("onnx_ir", reason="onnxruntime's MatMulNBits quantizer needs onnx-ir (test extra)")
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    import edgeai.onnx
    src = tiny_sd / "unet" / "model.onnx"
    model = onnx.load(str(src))
    inits = {t.name for t in model.graph.initializer}
    matmuls = [n.name for n in model.graph.node if n.op_type == "MatMul" and n.input[1] in inits]
    assert len(matmuls) >= 20

    ours = tmp_path / "unet.q4_0.onnx"
    report = edgeai.onnx.quantize(src, "q4_0", ours, nodes=matmuls, merge_shared_inputs=False)
    q = MatMulNBitsQuantizer(onnx.load(str(src)), block_size=32, is_symmetric=True)
    q.process()
    theirs = tmp_path / "unet.matmulnbits.onnx"
    q.model.save_model_to_file(str(theirs))
    nbits = [n for n in onnx.load(str(theirs)).graph.node if n.op_type == "MatMulNBits"]
    assert len(nbits) == len(matmuls)  # the same layers in 4 bits on both sides

    f = _session(src).run(None, unet_feeds)[0]
    y_ort = _session(theirs).run(None, unet_feeds)[0]
    y_ea = InferenceSession(ours, threads=2).run(None, unet_feeds)[0]
    p_ort, p_ea = psnr(f, y_ort), psnr(f, y_ea)
    print(f"tiny SD UNet, MatMul layers in 4 bits, PSNR vs float32: onnxruntime MatMulNBits {p_ort:.2f} dB, "
          f"edgeai q4_0 {p_ea:.2f} dB; max error {np.abs(f - y_ort).max():.4f} vs {np.abs(f - y_ea).max():.4f}")
    # both are symmetric 4-bit codes over blocks of 32 with one scale each: the same fidelity
    assert p_ea >= 40.0 and p_ort >= 40.0
    assert abs(p_ea - p_ort) <= 1.0
    assert np.abs(f - y_ea).max() <= 1.25 * np.abs(f - y_ort).max()

    # memory: q4_0 holds 18 bytes per 32 weights (fp16 scale); MatMulNBits 16 bytes + a float32 scale
    init = {t.name: t for t in onnx.load(str(theirs)).graph.initializer}
    ort_bytes = sum(numpy_helper.to_array(init[x]).nbytes for n in nbits for x in n.input[1:] if x in init)
    assert report.quant_bytes / report.float_bytes == pytest.approx(18 / 128, rel=0.01)
    assert report.quant_bytes < ort_bytes
