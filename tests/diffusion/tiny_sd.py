"""Build a tiny random-weight Stable Diffusion pipeline in the ONNX layout users download.

diffusers + torch make the models (seeded), torch.onnx exports them, and a small CLIP BPE
vocabulary is written by hand, so no hub access is needed:

    out/model_index.json
    out/scheduler/scheduler_config.json
    out/tokenizer/{vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json}
    out/text_encoder/model.onnx   input_ids[B, 77] int32 -> last_hidden_state[B, 77, 32]
    out/unet/model.onnx           sample[B, 4, h, w], timestep[B], encoder_hidden_states -> out_sample
    out/vae_decoder/model.onnx    latent_sample[B, 4, h, w] -> sample[B, 3, 8h, 8w]
    out/torch/                    the same weights as a diffusers pipeline (the oracle)
"""
import json
from pathlib import Path

WORDS = ["a", "photo", "of", "cat", "dog", "red", "blue", "house", "tree", "on", "the", "hill", "painting"]


def bytes_to_unicode():
    """GPT-2/CLIP byte-level alphabet: printable bytes keep their character, the rest map above 255."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def write_tokenizer(d: Path) -> int:
    """A CLIP-format BPE vocabulary covering WORDS by merges; returns the vocab size."""
    d.mkdir(parents=True, exist_ok=True)
    chars = list(bytes_to_unicode().values())
    vocab = chars + [c + "</w>" for c in chars]
    merges = []
    for w in WORDS:
        parts = list(w[:-1]) + [w[-1] + "</w>"]
        while len(parts) > 1:
            pair = (parts[0], parts[1])
            if " ".join(pair) not in merges:
                merges.append(" ".join(pair))
                vocab.append(pair[0] + pair[1])
            parts = [pair[0] + pair[1]] + parts[2:]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    ids = {}
    for t in vocab:
        ids.setdefault(t, len(ids))
    (d / "vocab.json").write_text(json.dumps(ids, ensure_ascii=False))
    (d / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    (d / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "CLIPTokenizer", "model_max_length": 77, "do_lower_case": True,
        "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>"}))
    (d / "special_tokens_map.json").write_text(json.dumps({
        "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>"}))
    return len(ids)


def build(out: Path, seed: int = 0) -> Path:
    """Write the tiny pipeline to ``out`` (ONNX layout + a diffusers copy in out/torch)."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    out = Path(out)
    vocab_size = write_tokenizer(out / "tokenizer")
    tokenizer = CLIPTokenizer(str(out / "tokenizer" / "vocab.json"), str(out / "tokenizer" / "merges.txt"),
                              model_max_length=77, pad_token="<|endoftext|>")
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=1, sample_size=8, in_channels=4,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
                                attention_head_dim=4, norm_num_groups=8).eval()
    # four blocks: the decoder upsamples 8x like SD's
    vae = AutoencoderKL(block_out_channels=(8, 8, 16, 16), in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                        layers_per_block=1, norm_num_groups=8, sample_size=64).eval()
    text = CLIPTextModel(CLIPTextConfig(bos_token_id=vocab_size - 2, eos_token_id=vocab_size - 1, hidden_size=32,
                                        intermediate_size=64, layer_norm_eps=1e-5, num_attention_heads=4,
                                        num_hidden_layers=2, pad_token_id=vocab_size - 1, vocab_size=vocab_size,
                                        max_position_embeddings=77)).eval()
    sched = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                          set_alpha_to_one=False, steps_offset=1)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet, scheduler=sched,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(out / "torch")

    class TextEncoder(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids):
            return self.m(input_ids.long(), return_dict=False)[0]

    class Unet(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, sample, timestep, encoder_hidden_states):
            return self.m(sample, timestep, encoder_hidden_states, return_dict=False)[0]

    class VaeDecoder(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, latent_sample):
            return self.m.decode(latent_sample, return_dict=False)[0]

    def export(module, args, names, outputs, axes, path):
        path.parent.mkdir(parents=True, exist_ok=True)
        with torch.no_grad():
            torch.onnx.export(module, args, str(path), input_names=names, output_names=outputs,
                              dynamic_axes=axes, opset_version=17, dynamo=False)

    ids = torch.zeros((1, 77), dtype=torch.int32)
    export(TextEncoder(text), (ids,), ["input_ids"], ["last_hidden_state"],
           {"input_ids": {0: "batch"}, "last_hidden_state": {0: "batch"}}, out / "text_encoder" / "model.onnx")
    export(Unet(unet), (torch.randn(2, 4, 8, 8), torch.tensor([1.0, 1.0]), torch.randn(2, 77, 32)),
           ["sample", "timestep", "encoder_hidden_states"], ["out_sample"],
           {"sample": {0: "batch", 2: "height", 3: "width"}, "timestep": {0: "batch"},
            "encoder_hidden_states": {0: "batch"}, "out_sample": {0: "batch", 2: "height", 3: "width"}},
           out / "unet" / "model.onnx")
    export(VaeDecoder(vae), (torch.randn(1, 4, 8, 8),), ["latent_sample"], ["sample"],
           {"latent_sample": {0: "batch", 2: "height", 3: "width"}, "sample": {0: "batch", 2: "height", 3: "width"}},
           out / "vae_decoder" / "model.onnx")
    (out / "vae_decoder" / "config.json").write_text(json.dumps({"scaling_factor": vae.config.scaling_factor}))
    # optimum's exports carry the UNet's config too; the pipeline reads block_out_channels from it
    (out / "unet" / "config.json").write_text(json.dumps({"block_out_channels": list(unet.config.block_out_channels),
                                                          "sample_size": unet.config.sample_size}))
    (out / "scheduler").mkdir(exist_ok=True)
    (out / "scheduler" / "scheduler_config.json").write_text(json.dumps(dict(sched.config)))
    (out / "model_index.json").write_text(json.dumps({
        "_class_name": "OnnxStableDiffusionPipeline", "_diffusers_version": "0.0",
        "text_encoder": ["diffusers", "OnnxRuntimeModel"], "unet": ["diffusers", "OnnxRuntimeModel"],
        "vae_decoder": ["diffusers", "OnnxRuntimeModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
        "scheduler": ["diffusers", "DDIMScheduler"]}))
    return out


if __name__ == "__main__":
    import sys
    print(build(Path(sys.argv[1])))
