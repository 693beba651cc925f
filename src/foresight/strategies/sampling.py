"""Strategies over n independent samples: self-consistency and best-of-n.

Self-consistency (Wang et al. 2023) votes on the extracted answers; best-of-n keeps the sample
with the highest mean log-prob, a reward-model-free ranking the φ paper also uses.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from foresight.driver import Program
from foresight.engine.types import GenerationRequest, Sample
from foresight.options import option
from foresight.ranges import AT_LEAST_1, POSITIVE, TOKEN_COUNT, UNIT_INTERVAL
from foresight.strategies.base import StrategyContext, StrategyResult, Trace


@dataclass(frozen=True)
class SamplingConfig:
    """n samples of a whole solution."""

    name: str
    n: int = option(8, "samples per question")
    temperature: float = option(0.7, "sampling temperature of each solution")
    top_p: float = option(1.0, "nucleus sampling mass")
    max_tokens: int = option(512, "cap on each solution's tokens")

    def __post_init__(self) -> None:
        AT_LEAST_1.check(self, "n")
        TOKEN_COUNT.check(self, "max_tokens")
        POSITIVE.check(self, "temperature")  # 0 would be greedy: n copies of one sample
        UNIT_INTERVAL.check(self, "top_p")

    @property
    def label(self) -> str:
        return f"{self.name}@{self.n}"


def sample_all(config: SamplingConfig, context: StrategyContext):
    """The n independent full solutions every sampling strategy starts from, in one request."""
    (completion,) = yield [
        GenerationRequest(
            context.prompt,
            n=config.n,
            temperature=config.temperature,
            top_p=config.top_p,
            max_tokens=config.max_tokens,
            seed=context.seed(),
        )
    ]
    return list(completion.samples)


@dataclass
class SampledSolution(Trace):
    """One of the n samples: its text, the answer extracted from it, its mean log-prob and length."""

    text: str
    answer: str | None
    mean_logprob: float
    num_tokens: int


@dataclass
class VoteTrace(Trace):
    """Self-consistency: every sample, and how many voted for the winning answer."""

    title = "self-consistency"
    samples: list[SampledSolution]
    votes: int


@dataclass
class BestOfNTrace(Trace):
    """Best-of-n: every sample, and the index of the one kept."""

    title = "best-of-n"
    samples: list[SampledSolution]
    chosen: int


def sampled_solutions(samples: list[Sample], answers: list[str | None]) -> list[SampledSolution]:
    """The samples as trace records, each with the answer the task extracted from it."""
    return [SampledSolution(s.text, a, s.mean_logprob, s.num_tokens) for s, a in zip(samples, answers)]


def majority_vote(answers: list[str | None], scores: list[float]) -> str | None:
    """The most frequent non-missing answer; ties go to the answer whose samples have the
    highest average score (mean log-prob). None when no sample gave an answer."""
    groups: dict[str, list[float]] = defaultdict(list)
    for answer, score in zip(answers, scores):
        if answer is not None:
            groups[answer].append(score)
    if not groups:
        return None
    return max(groups, key=lambda a: (len(groups[a]), float(np.mean(groups[a]))))


def self_consistency_program(config: SamplingConfig, context: StrategyContext) -> Program:
    samples = yield from sample_all(config, context)
    answers = [context.extract(s.text) for s in samples]
    scores = [s.mean_logprob for s in samples]
    winner = majority_vote(answers, scores)
    supporters = [i for i, a in enumerate(answers) if a == winner] or list(range(len(samples)))
    best = max(supporters, key=lambda i: scores[i])
    trace = VoteTrace(sampled_solutions(samples, answers), votes=answers.count(winner) if winner is not None else 0)
    return StrategyResult(response=samples[best].text, answer=winner, trace=trace)


def best_of_n_program(config: SamplingConfig, context: StrategyContext) -> Program:
    samples = yield from sample_all(config, context)
    answers = [context.extract(s.text) for s in samples]
    best = int(np.argmax([s.mean_logprob for s in samples]))
    return StrategyResult(response=samples[best].text, answer=answers[best], trace=BestOfNTrace(sampled_solutions(samples, answers), chosen=best))
