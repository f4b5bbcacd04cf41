"""Small language models on the edgeai kernels: GGUF / Hugging Face loading, tokenizer, chat
templates, KV-cache generation with streaming.

    import edgeai
    llm = edgeai.LLM.from_pretrained("HuggingFaceTB/SmolLM2-135M-Instruct")
    llm.chat([{"role": "user", "content": "What is the capital of France?"}])
"""
from .llm import LLM, GenerationStats
from .sampling import SamplingParams

__all__ = ["LLM", "GenerationStats", "SamplingParams"]
