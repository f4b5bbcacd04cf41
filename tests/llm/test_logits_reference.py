"""SmolLM2 logits from edgeai vs a float64 numpy forward pass written here, on weights dequantized by
the `gguf` package (an oracle independent of edgeai's kernels and of edgeai/llm/model.py)."""
import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


def _weights(path):
    r = GGUFReader(str(path))
    w = {}
    for t in r.tensors:
        a = dequantize(t.data, t.tensor_type).astype(np.float64)
        w[t.name] = a.reshape([int(d) for d in reversed(t.shape)]) if a.ndim > 1 else a.reshape(-1)
    meta = {k: f.contents() for k, f in r.fields.items() if not k.startswith("tokenizer.ggml.")}
    return w, meta


def _rms(x, g, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * g


def reference_logits(path, ids):
    """Plain float64 llama forward: adjacent-pair RoPE (llama.cpp's Q/K layout), GQA, SwiGLU, tied head."""
    w, m = _weights(path)
    L, H, KV = m["llama.block_count"], m["llama.attention.head_count"], m["llama.attention.head_count_kv"]
    eps, theta = m["llama.attention.layer_norm_rms_epsilon"], m["llama.rope.freq_base"]
    x = w["token_embd.weight"][ids]                                # (T, d)
    T, d = x.shape
    hd = d // H
    ang = np.arange(T)[:, None] * theta ** (-np.arange(0, hd, 2) / hd)[None, :]   # (T, hd/2)
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]

    def rope(v):                                                   # (T, heads, hd)
        e, o = v[..., 0::2], v[..., 1::2]
        out = np.empty_like(v)
        out[..., 0::2], out[..., 1::2] = e * cos - o * sin, e * sin + o * cos
        return out

    mask = np.triu(np.full((T, T), -np.inf), 1)
    for i in range(L):
        p = f"blk.{i}."
        h = _rms(x, w[p + "attn_norm.weight"], eps)
        q = rope((h @ w[p + "attn_q.weight"].T).reshape(T, H, hd))
        k = rope((h @ w[p + "attn_k.weight"].T).reshape(T, KV, hd))
        v = (h @ w[p + "attn_v.weight"].T).reshape(T, KV, hd)
        out = np.empty((T, H, hd))
        for head in range(H):
            kv = head // (H // KV)
            s = q[:, head] @ k[:, kv].T / np.sqrt(hd) + mask
            s = np.exp(s - s.max(-1, keepdims=True))
            out[:, head] = (s / s.sum(-1, keepdims=True)) @ v[:, kv]
        x = x + out.reshape(T, d) @ w[p + "attn_output.weight"].T
        h = _rms(x, w[p + "ffn_norm.weight"], eps)
        g, u = h @ w[p + "ffn_gate.weight"].T, h @ w[p + "ffn_up.weight"].T
        x = x + (g / (1 + np.exp(-g)) * u) @ w[p + "ffn_down.weight"].T
    x = _rms(x, w["output_norm.weight"], eps)
    return x @ w.get("output.weight", w["token_embd.weight"]).T


def test_logits_match_float64_reference(smollm, smollm_path):
    ids = smollm.tokenize("<|im_start|>user\nName three primary colors.<|im_end|>\n<|im_start|>assistant\nRed,")
    ref = reference_logits(smollm_path, ids)
    got = smollm.logits(ids).astype(np.float64)
    assert got.shape == ref.shape == (len(ids), smollm.config.vocab_size)
    # edgeai quantizes activations to 8 bits (q8_1 / q8_0) before every matmul; the reference keeps
    # them in float64. Tolerances, per position: max |diff| <= 10% of the logit range's max, and a
    # correlation above 0.995; the most likely next token must be the same at every position.
    for t in range(len(ids)):
        err = np.abs(got[t] - ref[t]).max()
        assert err <= 0.10 * np.abs(ref[t]).max(), (t, err)
        assert np.corrcoef(got[t], ref[t])[0, 1] > 0.995, t
    # The top token must match wherever the reference's best two are apart by more than 1% of the
    # row's max |logit|. Where they are closer (position 13 of this prompt: 30.637 vs 30.541, 0.3%),
    # the 8-bit activations decide: the ref kernels keep the order by 0.02, avx512vnni swaps it by
    # 0.05. There the pick must be one of the reference's two best. (13 of the 16 positions are clear.)
    top2 = np.argsort(ref, axis=-1)[:, -2:]
    gap = np.take_along_axis(ref, top2[:, 1:], -1)[:, 0] - np.take_along_axis(ref, top2[:, :1], -1)[:, 0]
    clear = gap > 0.01 * np.abs(ref).max(-1)
    assert clear.sum() >= 12
    np.testing.assert_array_equal(got.argmax(-1)[clear], ref.argmax(-1)[clear])
    assert all(got[t].argmax() in top2[t] for t in np.flatnonzero(~clear))
