"""Genius's foresight re-sampling (SPEC §3 steps 1-2): a step beam search over one unlabeled
query that records, at every step, each candidate's full trajectory, foresight score f and
advantage A. Preference pairs are built from these records afterwards (`genius.pairs`).

Per step k: every open beam proposes N one-line steps (temperature 0.6); each is rolled out to
the end of the solution (foresight, temperature 1.0); f = mean log-prob of the foresight tokens
and A = f − Q(parent). The next M beams are drawn without replacement from F_k = softmax(f/τ)
over all candidates of the step, and carry Q := f.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from foresight.driver import Program
from foresight.options import option
from foresight.ranges import AT_LEAST_1, POSITIVE
from foresight.strategies.selection import softmax
from foresight.strategies.stepwise import (
    Beam, Candidate, StepSearchSettings, assign_values, draw_next_beams, expand_with_foresight, open_search,
)


@dataclass(frozen=True)
class ResamplingConfig(StepSearchSettings):
    """Foresight re-sampling settings; defaults are the Genius paper's (SPEC §3)."""

    name: str = "genius-resampling"
    beams: int = option(2, "M, beams kept per step")
    rollouts: int = option(4, "N, candidate steps per beam")
    steps: int = option(4, "K_steps, steps searched per query = pairs per query")
    # paper: open; released script: 0.1
    exploration_temperature: float = option(0.1, "tau of softmax(f/tau) when drawing beams and negatives")

    def __post_init__(self) -> None:
        super().__post_init__()
        AT_LEAST_1.check(self, "beams", "rollouts", "steps")
        POSITIVE.check(self, "exploration_temperature", "foresight_temperature")  # every rollout is sampled


def resampling_program(config: ResamplingConfig, prompt: str, rng: np.random.Generator) -> Program:
    """The re-sampling search over one query; returns its per-step candidate records."""
    root, beams = open_search(prompt, config)
    steps: list[dict[str, Any]] = []
    for step in range(1, config.steps + 1):
        candidates = yield from expand_with_foresight(root, beams, config, rng)
        assign_values(beams, candidates)
        weights = softmax([c.value for c in candidates], config.exploration_temperature)
        drawn, next_beams = draw_next_beams(config.beams, beams, candidates, weights, rng)
        steps.append({
            "step": step,
            "candidates": [_trajectory(config, beams, c) for c in candidates],
            # next step's beams, in order: the finished ones carried over, then these candidates
            "accepted": drawn,
        })
        beams = next_beams
        if all(beam.finished for beam in beams):
            break
    return steps


def _trajectory(config: ResamplingConfig, beams: list[Beam], candidate: Candidate) -> dict[str, Any]:
    """A candidate as a training trajectory: the whole response (step prefix, the beam's accepted
    steps, this step, its foresight) with its f and A."""
    return {
        "beam": candidate.beam,
        "step": candidate.step.text,
        "trajectory": config.step_prefix + beams[candidate.beam].text + candidate.path_text,
        "f": candidate.value,
        "step_value": candidate.step.mean_logprob,  # the step's own confidence (no-foresight pairs)
        "A": candidate.advantage,
        "terminal": candidate.terminal,
        "selected": candidate.selected,
    }
