"""The OpenAI `/v1/completions` wire format: request bodies out, streamed choices in.

Why streaming: llama-server, in a non-streamed response, drops the log-probs of as many trailing
tokens as the matched stop string tokenizes to (which need not be the tokens that produced it);
streamed, it sends every token's log-prob, the one that completed the stop string included.

Two log-prob formats exist and both are read: the legacy one (`logprobs.tokens` and
`logprobs.token_logprobs`, as vLLM and OpenAI send) and the chat-style one that llama-server
sends (`logprobs.content[]` with `id`, `token`, `logprob`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from foresight.engine.types import GenerationRequest

#: Seeds go to servers as unsigned 32-bit values; llama-server treats 0xFFFFFFFF as "random".
#: Reducing modulo 2**31 leaves room for the +i offsets that per-sample seeds add.
_SEED_RANGE = 2**31


def sample_seed(seed: int, index: int) -> int:
    """The server seed of sample `index` of a request with `seed`.

    llama-server gives the k-th choice of an n > 1 request the seed `seed + k`; asking for one
    sample at a time with these seeds draws the same samples, so a request may be split freely.
    """
    return seed % _SEED_RANGE + index


def request_body(model: str, request: GenerationRequest, start: int, count: int,
                 extra: dict[str, Any]) -> dict[str, Any]:
    """Body asking for samples [start, start + count) of `request`, streamed, with log-probs."""
    body: dict[str, Any] = {
        "model": model,
        "prompt": request.prompt,
        "n": count,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "max_tokens": request.max_tokens,
        "seed": sample_seed(request.seed, start),
        "logprobs": 1,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.stop:
        body["stop"] = list(request.stop)
    return body | extra


@dataclass
class StreamedChoice:
    """One choice as its chunks arrive."""

    text: str = ""
    token_ids: list[int] = field(default_factory=list)
    token_texts: list[str] = field(default_factory=list)
    token_logprobs: list[float] = field(default_factory=list)
    finish_reason: str | None = None
    stop_reason: str | int | None = None  # vLLM names the stop string (or token id) that ended it
    completion_tokens: int | None = None  # llama-server reports usage per choice


@dataclass
class StreamedCompletion:
    """Everything one streamed `/v1/completions` response said."""

    choices: dict[int, StreamedChoice] = field(default_factory=dict)
    prompt_tokens: int | None = None
    cached_tokens: int = 0
    completion_tokens: int | None = None  # total over choices, when the server sends one usage

    def absorb(self, event: dict[str, Any]) -> None:
        """Fold one server-sent event's JSON into the response."""
        choices = event.get("choices") or []
        for chunk in choices:
            choice = self.choices.setdefault(int(chunk.get("index", 0)), StreamedChoice())
            choice.text += chunk.get("text") or ""
            if not _absorb_logprobs(choice, chunk.get("logprobs")) and chunk.get("token_ids"):
                choice.token_ids.extend(int(t) for t in chunk["token_ids"])  # vLLM's `return_token_ids`
            if chunk.get("finish_reason") is not None:
                choice.finish_reason = chunk["finish_reason"]
                choice.stop_reason = chunk.get("stop_reason")
        usage = event.get("usage")
        if not usage:
            return
        if len(choices) == 1 and choices[0].get("finish_reason") is not None:
            # llama-server: each choice's last chunk carries that choice's own usage; the first
            # choice's is the one whose prompt was actually processed (others copy its cache).
            index = int(choices[0].get("index", 0))
            self.choices[index].completion_tokens = usage.get("completion_tokens")
            if index != 0 and self.prompt_tokens is not None:
                return
        else:
            self.completion_tokens = usage.get("completion_tokens")
        self.prompt_tokens = usage.get("prompt_tokens")
        self.cached_tokens = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)


def _absorb_logprobs(choice: StreamedChoice, logprobs: dict[str, Any] | None) -> bool:
    """Fold in one chunk's log-probs; True when they carried the token ids too."""
    if not logprobs:
        return False
    if logprobs.get("content") is not None:  # llama-server
        for entry in logprobs["content"]:
            choice.token_logprobs.append(float(entry["logprob"]))
            choice.token_texts.append(entry.get("token", ""))
            if "id" in entry:
                choice.token_ids.append(int(entry["id"]))
        return any("id" in entry for entry in logprobs["content"])
    values = logprobs.get("token_logprobs") or []  # legacy: vLLM, OpenAI (ids come beside, if at all)
    choice.token_logprobs.extend(float(v) for v in values)
    choice.token_texts.extend(logprobs.get("tokens") or [""] * len(values))
    return False
