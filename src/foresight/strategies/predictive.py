"""Predictive decoding (Ma et al. 2024), the look-ahead baseline of the φ paper (SPEC §2).

Each step, N candidate steps are each rolled out to the end of the solution; a candidate's score
is the mean log-prob over its step and foresight tokens together; the next beam is drawn from
softmax(score / τ). No pruning, no clustering: the contrast with φ-Decoding.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from foresight.driver import Program
from foresight.options import option
from foresight.ranges import AT_LEAST_1, POSITIVE
from foresight.strategies.base import StrategyContext, StrategyResult
from foresight.strategies.selection import softmax
from foresight.strategies.step_traces import FinalCompletion, FinalTrace, StepSearchTrace, StepTrace
from foresight.strategies.stepwise import (
    Candidate, StepSearchSettings, complete_beams, draw_next_beams, expand_with_foresight, open_search,
)


@dataclass(frozen=True)
class PredictiveConfig(StepSearchSettings):
    """Predictive decoding settings; defaults as the φ paper ran the baseline."""

    name: str = "predictive"
    beams: int = option(1, "M, beams kept per step")
    rollouts: int = option(8, "N, candidate steps per beam, each with a foresight rollout")
    max_steps: int = option(8, "T, steps before the final completion")
    selection_temperature: float = option(0.1, "tau in softmax(score/tau)")

    def __post_init__(self) -> None:
        super().__post_init__()
        AT_LEAST_1.check(self, "beams", "rollouts", "max_steps")
        POSITIVE.check(self, "selection_temperature")

    @property
    def label(self) -> str:
        return "predictive"


def look_ahead_score(candidate: Candidate) -> float:
    """Mean log-prob over the step's and its foresight's tokens together."""
    samples = [candidate.step] + ([candidate.foresight] if candidate.foresight is not None else [])
    return sum(s.logprob for s in samples) / max(1, sum(s.num_tokens for s in samples))


def predictive_program(config: PredictiveConfig, context: StrategyContext) -> Program:
    rng = context.rng
    root, beams = open_search(context.prompt, config)
    steps_trace: list[StepTrace] = []
    stop_reason = "max_steps"
    for step in range(1, config.max_steps + 1):
        candidates = yield from expand_with_foresight(root, beams, config, rng)
        for candidate in candidates:
            candidate.value = look_ahead_score(candidate)
        weights = softmax([c.value for c in candidates], config.selection_temperature)
        _, beams = draw_next_beams(config.beams, beams, candidates, weights, rng)
        steps_trace.append(StepTrace(step, [c.trace() for c in candidates]))
        if all(beam.finished for beam in beams):
            stop_reason = "all_beams_finished"
            break
    solutions = yield from complete_beams(root, beams, config.foresight_temperature, config.max_tokens, rng)
    best = int(np.argmax([beam.f_prev for beam in beams]))
    response = solutions[best][0]
    completions = [FinalCompletion(text=full, completion=beam.last_step if sample is None else sample.text,
                                   weight=float(i == best))
                   for i, (beam, (full, sample)) in enumerate(zip(beams, solutions))]
    trace = StepSearchTrace(steps=steps_trace, final=FinalTrace(completions, chosen=best), stop_reason=stop_reason)
    return StrategyResult(response=response, answer=context.extract(response), trace=trace)
