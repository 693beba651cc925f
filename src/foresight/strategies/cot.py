"""Chain of thought: one greedy completion (the φ paper's CoT baseline)."""

from __future__ import annotations

from dataclasses import dataclass

from foresight.driver import Program
from foresight.engine.types import GenerationRequest
from foresight.options import option
from foresight.ranges import TOKEN_COUNT
from foresight.strategies.base import StrategyContext, StrategyResult, Trace


@dataclass(frozen=True)
class CoTConfig:
    """Greedy chain of thought."""

    name: str = "cot"
    max_tokens: int = option(512, "cap on the completion's tokens")

    def __post_init__(self) -> None:
        TOKEN_COUNT.check(self, "max_tokens")

    @property
    def label(self) -> str:
        return "cot"


@dataclass
class CoTTrace(Trace):
    """The one completion's ending and its mean log-prob."""

    title = "chain of thought"
    finish_reason: str  # "stop" or "length" (cut at max_tokens)
    mean_logprob: float


def cot_program(config: CoTConfig, context: StrategyContext) -> Program:
    (completion,) = yield [
        GenerationRequest(context.prompt, n=1, temperature=0.0, max_tokens=config.max_tokens, seed=context.seed())
    ]
    sample = completion.samples[0]
    return StrategyResult(
        response=sample.text,
        answer=context.extract(sample.text),
        trace=CoTTrace(finish_reason=sample.finish_reason, mean_logprob=sample.mean_logprob),
    )
