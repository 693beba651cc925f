"""Building blocks of step-level search: beams, candidate steps, foresight rollouts.

A beam is an accepted partial solution, one step per line, continued after
`root` = the rendered prompt + the step prefix. Shared by φ-Decoding and predictive decoding
(and, later, Genius's foresight re-sampling), so each of those files holds only its own rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generator

import numpy as np

from foresight.engine.types import Completion, GenerationRequest, Sample
from foresight.options import option
from foresight.ranges import NON_NEGATIVE, POSITIVE, TOKEN_COUNT
from foresight.strategies.base import request_seed
from foresight.strategies.selection import sample_without_replacement
from foresight.strategies.step_traces import CandidateTrace

Requests = Generator[list[GenerationRequest], list[Completion], Any]

#: Opens the assistant turn before the first step (the embedded models are trained on it).
STEP_PREFIX = "The reasoning steps are:\n\n"


@dataclass(frozen=True)
class StepSettings:
    """The settings every step-level search shares, defined once: how candidate steps are
    sampled and capped, the cap on the completion that ends a solution, and the text the
    solution opens with."""

    step_temperature: float = option(0.6, "sampling temperature of candidate steps")
    step_prefix: str = option(STEP_PREFIX, "text opening the assistant turn before the first step")
    max_step_tokens: int = option(128, "cap on one step's tokens")
    max_tokens: int = option(512, "cap on the tokens of a completion that ends a solution (a foresight rollout "
                                  "or a final completion)")

    def __post_init__(self) -> None:
        TOKEN_COUNT.check(self, "max_step_tokens", "max_tokens")
        POSITIVE.check(self, "step_temperature")


@dataclass(frozen=True)
class StepSearchSettings(StepSettings):
    """The step settings of the searches that look ahead (φ-Decoding, predictive decoding,
    Genius's re-sampling): their foresight rollouts and final completions share one temperature."""

    foresight_temperature: float = option(1.0, "sampling temperature of foresight rollouts and final completions")

    def __post_init__(self) -> None:
        super().__post_init__()
        NON_NEGATIVE.check(self, "foresight_temperature")


@dataclass(frozen=True)
class BaselineStepSettings(StepSettings):
    """The step settings of the baselines that finish each path with one final completion
    (Tree-of-Thought, MCTS, guided decoding), which the authors' scripts sample at a
    temperature of its own."""

    completion_temperature: float = option(1.0, "temperature of the final completions")

    def __post_init__(self) -> None:
        super().__post_init__()
        NON_NEGATIVE.check(self, "completion_temperature")


@dataclass
class Beam:
    """An accepted partial solution and the value bookkeeping of its last step."""

    text: str = ""
    f_prev: float = 0.0  # foresight value of the last accepted step (0 at the start)
    advantage: float = 0.0  # advantage of the last accepted step
    finished: bool = False  # the model ended the solution inside this beam
    last_step: str = ""  # text of the last accepted step (a finished beam's final words)


@dataclass
class Candidate:
    """One proposed next step of a beam, with everything the selection rules compute for it."""

    beam: int
    step: Sample
    foresight: Sample | None = None  # rollout from after this step to the end of the solution
    kept: bool = True
    topped_up: bool = False
    value: float = 0.0  # F: the value the strategy assigns (phi: foresight mean log-prob)
    advantage: float = 0.0  # A = F - F_prev of the parent beam
    cluster: int = -1
    alignment: float = 0.0  # C: share of foresight paths in this candidate's cluster
    weight: float = 0.0  # selection probability
    selected: bool = False
    qualified: bool | None = None  # passed phi's positive-advantage filter (None: no filter applied)

    @property
    def terminal(self) -> bool:
        """The step ended the whole solution (end-of-sequence), so it needs no rollout."""
        return self.step.ended_sequence

    @property
    def outcome_text(self) -> str:
        """Where the candidate's path goes after its step: the foresight continuation, or the step
        itself when it has none (a step that ended the solution, or a search without look-ahead).
        φ-Decoding clusters these texts (Algorithm 1: Cluster({a>t}))."""
        return self.foresight.text if self.foresight is not None else self.step.text

    @property
    def path_text(self) -> str:
        """The candidate's full path from its beam on: the step, then its foresight."""
        foresight = self.foresight.text if self.foresight is not None else ""
        return self.step.text + ("\n" + foresight if foresight else "")

    def trace(self) -> CandidateTrace:
        return CandidateTrace(
            beam=self.beam, text=self.step.text, score=self.step.mean_logprob, terminal=self.terminal,
            kept=self.kept, foresight=self.foresight.text if self.foresight is not None else "",
            F=self.value, A=self.advantage, cluster=self.cluster, C=self.alignment, weight=self.weight,
            selected=self.selected, topped_up=self.topped_up, qualified=self.qualified,
        )


def open_search(prompt: str, config: Any) -> tuple[str, list[Beam]]:
    """Where a step search starts: the root every step continues (the prompt, then the config's
    step prefix) and `config.beams` empty beams."""
    return prompt + config.step_prefix, [Beam() for _ in range(config.beams)]


def roll_out_steps(root: str, beams: list[Beam], rollouts: int, temperature: float, max_step_tokens: int,
                   rng: np.random.Generator) -> Requests:
    """`rollouts` one-line candidates per unfinished beam; beams with identical text share a request."""
    groups: dict[str, list[int]] = {}
    for index, beam in enumerate(beams):
        if not beam.finished:
            groups.setdefault(beam.text, []).append(index)
    completions: list[Completion] = yield [
        GenerationRequest(root + text, n=rollouts * len(members), temperature=temperature,
                          max_tokens=max_step_tokens, stop=("\n",), seed=request_seed(rng))
        for text, members in groups.items()
    ]
    return [
        Candidate(beam=members[offset // rollouts], step=sample)
        for members, completion in zip(groups.values(), completions)
        for offset, sample in enumerate(completion.samples)
    ]


def look_ahead(root: str, beams: list[Beam], candidates: list[Candidate], temperature: float, max_tokens: int,
               rng: np.random.Generator) -> Requests:
    """Foresight: roll every non-terminal candidate out to the end of the solution (one sample each)."""
    rolling = [c for c in candidates if not c.terminal]
    if not rolling:
        return
    completions: list[Completion] = yield [
        GenerationRequest(root + beams[c.beam].text + c.step.text + "\n", n=1, temperature=temperature,
                          max_tokens=max_tokens, seed=request_seed(rng))
        for c in rolling
    ]
    for candidate, completion in zip(rolling, completions):
        candidate.foresight = completion.samples[0]


def expand_with_foresight(root: str, beams: list[Beam], config: Any, rng: np.random.Generator) -> Requests:
    """Candidate steps for every open beam, each rolled out to the end of the solution: the step
    of searches that value every candidate by its foresight (predictive decoding, Genius).
    `config` is a `StepSearchSettings` with `rollouts`."""
    candidates = yield from roll_out_steps(root, beams, config.rollouts, config.step_temperature,
                                           config.max_step_tokens, rng)
    yield from look_ahead(root, beams, candidates, config.foresight_temperature, config.max_tokens, rng)
    return candidates


def assign_values(beams: list[Beam], candidates: list[Candidate]) -> None:
    """F = mean log-prob of the candidate's foresight; a candidate without one (a terminal step,
    or no look-ahead at all) is valued by its own step's mean log-prob. A = F − F_prev of the
    parent beam. Shared by φ-Decoding and Genius's re-sampling."""
    for candidate in candidates:
        valued = candidate.foresight if candidate.foresight is not None else candidate.step
        candidate.value = valued.mean_logprob
        candidate.advantage = candidate.value - beams[candidate.beam].f_prev


def accept(parent: Beam, candidate: Candidate) -> Beam:
    """The beam that continues `parent` with `candidate`'s step."""
    return Beam(
        text=parent.text + candidate.step.text + ("" if candidate.terminal else "\n"),
        f_prev=candidate.value,
        advantage=candidate.advantage,
        finished=candidate.terminal,
        last_step=candidate.step.text,
    )


def draw_next_beams(width: int, beams: list[Beam], candidates: list[Candidate], weights: np.ndarray,
                    rng: np.random.Generator) -> tuple[list[int], list[Beam]]:
    """Fill the open beam slots (`width` minus finished beams) with candidates drawn without
    replacement by `weights`; marks each candidate's weight and selection. Returns the drawn
    candidate indices, in draw order, and the next beams: finished ones first, then the drawn."""
    for candidate, weight in zip(candidates, weights):
        candidate.weight = float(weight)
    drawn = sample_without_replacement(weights, width - sum(beam.finished for beam in beams), rng)
    for index in drawn:
        candidates[index].selected = True
    next_beams = [beam for beam in beams if beam.finished] + [accept(beams[candidates[i].beam], candidates[i]) for i in drawn]
    return drawn, next_beams


def complete_beams(root: str, beams: list[Beam], temperature: float, max_tokens: int,
                   rng: np.random.Generator) -> Requests:
    """Finish every beam: unfinished ones get one completion. Returns, per beam, its full
    solution text and the completion sample (None for a beam that had already finished)."""
    open_beams = [b for b in beams if not b.finished]
    completions: list[Completion] = (
        (yield [GenerationRequest(root + b.text, n=1, temperature=temperature, max_tokens=max_tokens,
                                  seed=request_seed(rng)) for b in open_beams])
        if open_beams else []
    )
    done = {id(b): c.samples[0] for b, c in zip(open_beams, completions)}
    return [(b.text + done[id(b)].text, done[id(b)]) if id(b) in done else (b.text, None) for b in beams]
