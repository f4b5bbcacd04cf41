"""chat(): the model's own template, rendered with transformers' apply_chat_template semantics."""
import pytest

from edgeai.llm import chat_template
from edgeai.llm.chat_template import ChatTemplateError

USER = [{"role": "user", "content": "What is the capital of France?"}]


def test_smollm_template_inserts_its_default_system_prompt(smollm):
    # pinned: SmolLM2's template adds this system turn when the chat has none
    expected = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
                "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n"
                "<|im_start|>assistant\n")
    assert smollm.apply_chat_template(USER) == expected
    assert smollm.apply_chat_template(USER, add_generation_prompt=False) == expected[:-len("<|im_start|>assistant\n")]
    with_system = [{"role": "system", "content": "Be brief."}] + USER
    assert smollm.apply_chat_template(with_system).startswith("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user")


def test_rendering_matches_transformers(smollm):
    transformers = pytest.importorskip("transformers", reason="transformers is the oracle of this test")
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=smollm.tokenizer.tok,
                                               bos_token=smollm.tokenizer.bos_token, eos_token=smollm.tokenizer.eos_token)
    chats = [USER, [{"role": "system", "content": "Sys"}] + USER + [{"role": "assistant", "content": "Paris."},
                                                                    {"role": "user", "content": "And Spain? ñ 🤗"}]]
    for msgs in chats:
        for gen in (True, False):
            want = tok.apply_chat_template(msgs, chat_template=smollm.chat_template, tokenize=False,
                                           add_generation_prompt=gen)
            assert smollm.apply_chat_template(msgs, add_generation_prompt=gen) == want


def test_chat_generates_from_the_rendered_template(smollm):
    reply = smollm.chat(USER, max_tokens=12, temperature=0)
    prompt_tokens = smollm.stats.prompt_tokens
    direct = smollm.generate(smollm.apply_chat_template(USER), max_tokens=12, temperature=0, add_bos=False)
    assert reply == direct
    assert prompt_tokens == len(smollm.tokenize(smollm.apply_chat_template(USER), add_bos=False))


def test_template_semantics():
    tmpl = ("{% if messages[0]['role'] != 'user' %}{{ raise_exception('first message must be from the user') }}"
            "{% endif %}\n{% for m in messages %}\n  {{ bos_token }}{{ m['content'] | tojson }}\n{% endfor %}")
    # trim_blocks and lstrip_blocks: block tags leave no newlines or indentation behind
    assert chat_template.render(tmpl, USER, bos_token="<s>") == '  <s>"What is the capital of France?"\n'
    with pytest.raises(ChatTemplateError, match="first message must be from the user"):
        chat_template.render(tmpl, [{"role": "assistant", "content": "x"}])
    # the sandbox refuses attribute access to Python internals
    with pytest.raises(Exception):
        chat_template.render("{{ messages.__class__.__mro__ }}", USER)
    with pytest.raises(ValueError, match="role"):
        chat_template.render(None, [{"content": "no role"}])
