"""Chat templates rendered with jinja2, with the semantics of transformers' ``apply_chat_template``.

The same environment transformers uses: an immutable sandbox (templates come from model files),
``trim_blocks`` and ``lstrip_blocks``, the loop-controls extension, a ``tojson`` filter that keeps
non-ASCII text, and the globals ``raise_exception`` and ``strftime_now``. Variables passed:
``messages``, ``add_generation_prompt``, ``bos_token``, ``eos_token``, plus any extra keywords.
"""
import json
from datetime import datetime
from functools import lru_cache
from typing import Any, Dict, List, Optional

from ..errors import EdgeAIError


class ChatTemplateError(EdgeAIError, ValueError):
    """The template raised (``raise_exception``) or failed to render; the message says why."""


# ChatML, used when a model ships no template (the format SmolLM2 and Qwen2 were tuned on)
DEFAULT_TEMPLATE = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] "
                    "+ '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
                    "{% endif %}")


def _raise(message: str):
    raise ChatTemplateError(f"chat template: {message}")


def _tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


@lru_cache(maxsize=8)
def _compile(source: str):
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise
    env.globals["strftime_now"] = _strftime_now
    return env.from_string(source)


def check_messages(messages: Any) -> List[Dict[str, Any]]:
    """Validate a chat: a list of dicts with a str ``role`` and ``content``.

    Raises:
        TypeError / ValueError naming the bad message.
    """
    if not isinstance(messages, (list, tuple)):
        raise TypeError(f"messages must be a list of {{'role': ..., 'content': ...}} dicts, not {type(messages).__name__}")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or "role" not in m or "content" not in m:
            raise ValueError(f"message {i} must be a dict with 'role' and 'content', got {m!r}")
        if not isinstance(m["role"], str):
            raise ValueError(f"message {i}: role must be a str")
    return list(messages)


def render(template: Optional[str], messages, *, add_generation_prompt: bool = True, bos_token: str = "",
           eos_token: str = "", **kwargs) -> str:
    """Render a chat into the prompt text the model was trained on.

    Args:
        template: jinja2 source (None: ChatML).
        messages: list of ``{"role": ..., "content": ...}``.
        add_generation_prompt: append the opening of the assistant's turn.
        bos_token, eos_token: the model's special token texts.
        **kwargs: further template variables (``tools``, ``documents``...).
    Returns:
        The prompt text (special tokens as text; tokenize it with special-token parsing).
    Raises:
        ChatTemplateError: the template rejected the messages or failed.
    """
    from jinja2 import TemplateError
    msgs = check_messages(messages)
    try:
        return _compile(template or DEFAULT_TEMPLATE).render(
            messages=msgs, add_generation_prompt=add_generation_prompt, bos_token=bos_token, eos_token=eos_token,
            **kwargs)
    except ChatTemplateError:
        raise
    except TemplateError as e:
        raise ChatTemplateError(f"chat template failed: {e}") from e
