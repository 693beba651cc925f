"""Stop-string detection that stays off the per-token hot path.

A stop string can only newly appear in a row's text when the latest token's text contains the
string's last character. `StopScreen` precomputes, once per tokenizer, each token's text in
context, so the engine decodes a row only on those rare candidate tokens.
"""

from __future__ import annotations

from typing import Sequence

import torch

REPLACEMENT_CHAR = "\ufffd"


def token_texts(tokenizer, vocab_size: int) -> list[str]:
    """Each token's text as it reads after a neutral context token.

    Decoding a token alone loses SentencePiece's leading space; decoding after a context token
    and cutting that context keeps it. Partial UTF-8 byte tokens decode to U+FFFD.
    """
    context = tokenizer.encode("a", add_special_tokens=False)[-1:]
    prefix = tokenizer.decode(context)
    pairs = tokenizer.batch_decode([context + [i] for i in range(vocab_size)])
    return [text[len(prefix):] if text.startswith(prefix) else text for text in pairs]


class StopScreen:
    """For one set of stop strings, which token ids could complete one of them."""

    def __init__(self, texts: Sequence[str], stops: Sequence[str]) -> None:
        last_chars = {stop[-1] for stop in stops if stop}
        self.stops = tuple(stop for stop in stops if stop)
        self.candidates = torch.tensor(
            [REPLACEMENT_CHAR in text or any(ch in text for ch in last_chars) for text in texts],
            dtype=torch.bool,
        )


def first_stop(text: str, stops: Sequence[str]) -> tuple[int, str] | None:
    """(index, stop string) of the earliest stop string in `text`, or None."""
    found = [(i, stop) for stop in stops if (i := text.find(stop)) >= 0]
    return min(found) if found else None
