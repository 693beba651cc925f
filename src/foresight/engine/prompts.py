"""Prompt text <-> token ids, the same way for every engine.

Engines that run the model elsewhere (an HTTP server, vLLM) still render the chat template and
count tokens locally with the model's own tokenizer, so a prompt is byte-identical whichever
engine serves it, and a strategy's token accounting does not depend on the backend.
"""

from __future__ import annotations

from typing import Sequence


def render_chat(tokenizer, messages: Sequence[dict[str, str]]) -> str:
    """The model's own chat template, ending inside a fresh assistant turn."""
    return tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=False)


def adds_special_tokens(tokenizer, prompt: str) -> bool:
    """Whether tokenizing `prompt` adds the tokenizer's special tokens (BOS): only where the
    rendered template does not already hold BOS, or the model would see two. Servers that
    tokenize themselves (vLLM's `add_special_tokens`) are told the same."""
    bos = tokenizer.bos_token
    return not (bool(bos) and prompt.startswith(bos))


def encode_prompt(tokenizer, prompt: str) -> list[int]:
    """Prompt ids, special tokens added as `adds_special_tokens` says."""
    return tokenizer.encode(prompt, add_special_tokens=adds_special_tokens(tokenizer, prompt))


def decode_continuation(tokenizer, tokens: Sequence[int], context: Sequence[int], skip_special: bool = False) -> str:
    """Text of `tokens` as it continues the prompt (context keeps leading spaces intact)."""
    prefix = tokenizer.decode(list(context), skip_special_tokens=skip_special)
    full = tokenizer.decode(list(context) + list(tokens), skip_special_tokens=skip_special)
    return full[len(prefix):] if full.startswith(prefix) else tokenizer.decode(list(tokens), skip_special_tokens=skip_special)
