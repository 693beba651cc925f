"""Chain of thought: one greedy completion (the φ paper's CoT baseline)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from foresight.driver import Program
from foresight.engine.types import GenerationRequest
from foresight.ranges import TOKEN_COUNT
from foresight.strategies.base import AnswerExtractor, StrategyResult, request_seed


@dataclass(frozen=True)
class CoTConfig:
    """Greedy chain of thought."""

    name: str = "cot"
    max_tokens: int = 512  # cap on the completion's length in tokens

    def __post_init__(self) -> None:
        TOKEN_COUNT.check(self, "max_tokens")

    @property
    def label(self) -> str:
        return "cot"


def cot_program(config: CoTConfig, prompt: str, extract: AnswerExtractor, rng: np.random.Generator) -> Program:
    (completion,) = yield [
        GenerationRequest(prompt, n=1, temperature=0.0, max_tokens=config.max_tokens, seed=request_seed(rng))
    ]
    sample = completion.samples[0]
    return StrategyResult(
        response=sample.text,
        answer=extract(sample.text),
        trace={"finish_reason": sample.finish_reason, "mean_logprob": sample.mean_logprob},
    )
