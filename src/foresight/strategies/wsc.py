"""Weighted self-consistency: each sample's vote for its answer counts by the model's confidence.

search-and-learn's weighted vote (answers' votes weighted by a score) with the model's own
likelihood as the score, so it needs no reward model. `weight`:

* `mean_logprob` (default): a sample weighs exp(mean log-prob), its per-token probability
  (geometric mean), so long and short solutions compete on equal terms;
* `sum`: exp(summed log-prob), the probability of the whole sample (favours short ones);
* `none`: every sample weighs 1, which is self-consistency's majority vote exactly.

Tallies are summed in log space (log-sum-exp), so `sum`'s tiny probabilities do not underflow.
Ties go to the answer whose samples have the higher average mean log-prob, as in `sc`. The
samples are `sc`'s and `bon`'s: the same request with the same seed, so under one seed the
three strategies choose among identical samples and differ only in the choice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from foresight.driver import Program
from foresight.engine.types import Sample
from foresight.errors import OptionValueError
from foresight.options import option
from foresight.strategies.base import StrategyContext, StrategyResult, Trace
from foresight.strategies.sampling import SampledSolution, SamplingConfig, sample_all, sampled_solutions

WEIGHTS = ("mean_logprob", "sum", "none")


@dataclass(frozen=True)
class WeightedVoteConfig(SamplingConfig):
    """sc's and bon's n samples, voted with weights."""

    name: str = "wsc"
    weight: str = option("mean_logprob", "a sample's vote weight: exp of its mean log-prob (mean_logprob), "
                                          "exp of its summed log-prob (sum), or 1 (none)", choices=WEIGHTS)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.weight not in WEIGHTS:
            raise OptionValueError("weight", f"one of {', '.join(WEIGHTS)}", self.weight)

    @property
    def label(self) -> str:
        weight = "" if self.weight == "mean_logprob" else f"-{self.weight}"
        return f"{self.name}{weight}@{self.n}"


@dataclass
class AnswerTally(Trace):
    """One answer's support: how many samples gave it and their share of the total weight."""

    answer: str
    samples: int
    share: float  # summed weight of its samples / summed weight of all answered samples


@dataclass
class WeightedVoteTrace(Trace):
    """Weighted self-consistency: every sample with its log weight, the tally, the sample kept."""

    title = "weighted self-consistency"
    samples: list[SampledSolution]
    log_weights: list[float]  # per sample, log of its vote weight
    tally: list[AnswerTally]  # answers by decreasing share
    chosen: int  # the sample returned as the response


def log_weight(weight: str, sample: Sample) -> float:
    """Log of a sample's vote weight under rule `weight`."""
    if weight == "mean_logprob":
        return sample.mean_logprob
    if weight == "sum":
        return sample.logprob
    return 0.0


def weighted_tally(answers: list[str | None], log_weights: list[float], scores: list[float]) -> list[AnswerTally]:
    """The answers (missing ones abstain) by decreasing summed weight; ties by higher average
    score (mean log-prob), then first seen."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, answer in enumerate(answers):
        if answer is not None:
            groups[answer].append(i)
    if not groups:
        return []
    totals = {a: float(np.logaddexp.reduce([log_weights[i] for i in members])) for a, members in groups.items()}
    overall = float(np.logaddexp.reduce(list(totals.values())))
    order = sorted(groups, key=lambda a: (-totals[a], -float(np.mean([scores[i] for i in groups[a]]))))
    return [AnswerTally(a, len(groups[a]), float(np.exp(totals[a] - overall))) for a in order]


def weighted_vote_program(config: WeightedVoteConfig, context: StrategyContext) -> Program:
    samples = yield from sample_all(config, context)
    answers = [context.extract(s.text) for s in samples]
    scores = [s.mean_logprob for s in samples]
    weights = [log_weight(config.weight, s) for s in samples]
    tally = weighted_tally(answers, weights, scores)
    winner = tally[0].answer if tally else None
    supporters = [i for i, a in enumerate(answers) if a == winner] or list(range(len(samples)))
    best = max(supporters, key=lambda i: scores[i])
    trace = WeightedVoteTrace(sampled_solutions(samples, answers), weights, tally, chosen=best)
    return StrategyResult(response=samples[best].text, answer=winner, trace=trace)
