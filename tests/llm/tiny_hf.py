"""Tiny random-weight Hugging Face checkpoints, made at test time with transformers (never committed)."""
import json
from pathlib import Path

CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
          "'<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")

CORPUS = ["The capital of France is Paris.", "def add(a, b):\n    return a + b", "Numbers: 12345 67.89",
          "Hello world! How are you today?", "héllo wörld, naïve café", "<|im_start|>user\nhi<|im_end|>"] * 20


def make_tokenizer(d: Path, vocab_size: int = 320) -> None:
    """A byte-level BPE tokenizer trained on a small corpus, with ChatML special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    tok.save(str(d / "tokenizer.json"))
    (d / "tokenizer_config.json").write_text(json.dumps({
        "bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "add_bos_token": False, "chat_template": CHATML}))


def make_model(d: Path, arch: str, seed: int = 0) -> Path:
    """Save a tiny random ``arch`` ("llama" | "qwen2") model in HF layout under ``d``; returns ``d``."""
    import torch
    import transformers as tf
    d.mkdir(parents=True, exist_ok=True)
    make_tokenizer(d)
    from tokenizers import Tokenizer
    vocab = Tokenizer.from_file(str(d / "tokenizer.json")).get_vocab_size()
    common = dict(vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256, rms_norm_eps=1e-5,
                  bos_token_id=1, eos_token_id=2)
    torch.manual_seed(seed)
    if arch == "llama":
        cfg = tf.LlamaConfig(rope_theta=10000.0, tie_word_embeddings=False, **common)
        model = tf.LlamaForCausalLM(cfg)
    elif arch == "qwen2":
        cfg = tf.Qwen2Config(rope_theta=1000000.0, tie_word_embeddings=True, **common)
        model = tf.Qwen2ForCausalLM(cfg)
        with torch.no_grad():  # random biases, so a mistake in applying them shows
            for layer in model.model.layers:
                for proj in (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj):
                    proj.bias.normal_(0, 0.5)
    elif arch == "gemma3":
        # three layers, the middle one global; a window of 4 so 20+ token prompts exercise it
        cfg = tf.Gemma3TextConfig(head_dim=32, query_pre_attn_scalar=24, sliding_window=4, pad_token_id=0,
                                  layer_types=["sliding_attention", "full_attention", "sliding_attention"],
                                  **dict(common, num_hidden_layers=3, rms_norm_eps=1e-6))
        model = tf.Gemma3ForCausalLM(cfg)
    elif arch == "phi3":
        cfg = tf.Phi3Config(pad_token_id=0, tie_word_embeddings=False, **common)
        model = tf.Phi3ForCausalLM(cfg)
    else:
        raise ValueError(arch)
    with torch.no_grad():  # larger than the default init so the layers matter
        for p in model.parameters():
            if p.ndim == 2:
                p.normal_(0, 0.08)
            elif arch == "gemma3":  # norms scale by (1 + w): make w non-zero so they matter
                p.normal_(0, 0.3)
    model.eval()
    model.save_pretrained(str(d), safe_serialization=True)
    return d


def hf_logits(d: Path, ids):
    """Logits (T, vocab) of transformers' own forward pass in float32."""
    import torch
    import transformers as tf
    model = tf.AutoModelForCausalLM.from_pretrained(str(d), torch_dtype=torch.float32)
    model.eval()
    with torch.no_grad():
        return model(torch.tensor([list(ids)])).logits[0].numpy()
