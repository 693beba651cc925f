"""φ-Decoding: adaptive foresight sampling (Xu et al., ACL 2025), exactly as SPEC §1.

Step-level beam search. Each step, every beam proposes N one-line candidate steps; candidates
far below the batch's mean step score are pruned (in-width); each survivor is rolled out to a
full solution (foresight); a candidate's value combines its advantage (foresight mean log-prob
minus its parent's) and its alignment (share of foresight paths in its cluster); the next beams
are drawn from that joint distribution. Stepping stops early once the foresight paths agree
(in-depth pruning), and the best of the beams' completions is the answer.

Where the authors' released script departs from the paper, the paper is the default and the
script is the `released` preset (`PhiConfig.released()`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from foresight.driver import Program
from foresight.engine.types import Completion, GenerationRequest, Sample
from foresight.strategies.base import AnswerExtractor, StrategyResult, request_seed
from foresight.strategies.clustering import alignment_scores, cluster_texts, largest_cluster_share
from foresight.strategies.selection import joint_weights, sample_without_replacement, softmax, width_prune

STEP_PREFIX = "The reasoning steps are:\n\n"


@dataclass(frozen=True)
class PhiConfig:
    """φ-Decoding settings; defaults are the paper's (SPEC §1)."""

    name: str = "phi"
    beams: int = 4  # M: beams kept per step
    rollouts: int = 4  # N: candidate steps sampled per beam
    clusters: int = 3  # K: k-means clusters over foresight paths
    depth_threshold: float = 0.7  # δ: stop stepping once the largest cluster holds this share
    width_k: float = 1.0  # k: in-width pruning keeps step scores >= mean - k·std
    min_steps: int = 4  # T_min: in-depth pruning only from this step on
    max_steps: int = 8  # T_max: hard cap on steps
    step_temperature: float = 0.6  # sampling temperature of candidate steps
    foresight_temperature: float = 1.0  # temperature of foresight rollouts and final completions
    advantage_temperature: float = 0.6  # τ1 in softmax(A/τ1)
    alignment_temperature: float = 0.6  # τ2 in softmax(C/τ2)
    final_choice: str = "joint"  # "joint" (paper) or "largest_of_2_clusters" (released script)
    foresight: bool = True  # ablation switch: False values steps by their own score
    cluster: bool = True  # ablation switch: False selects on advantage alone
    width_pruning: bool = True  # ablation switch
    depth_pruning: bool = True  # ablation switch
    clustering: str = "tfidf"  # text representation for k-means
    step_prefix: str = STEP_PREFIX  # opens the assistant turn before the first step
    max_step_tokens: int = 128  # cap on one step's tokens
    max_tokens: int = 512  # cap on a foresight rollout or final completion
    preset: str = "paper"  # which settings these are: "paper" or "released"

    def __post_init__(self) -> None:
        for name in ("beams", "rollouts", "clusters", "min_steps", "max_steps", "max_step_tokens", "max_tokens"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0 < self.depth_threshold <= 1:
            raise ValueError(f"depth_threshold must be in (0, 1], got {self.depth_threshold}")
        if self.final_choice not in ("joint", "largest_of_2_clusters"):
            raise ValueError(f"final_choice must be joint or largest_of_2_clusters, got {self.final_choice}")
        if min(self.advantage_temperature, self.alignment_temperature, self.step_temperature) <= 0:
            raise ValueError("temperatures must be > 0")

    @classmethod
    def released(cls, **overrides: Any) -> "PhiConfig":
        """The authors' released script: τ1 = 0.1 on advantage, no temperature on alignment
        (the two softmaxes averaged, which is what normalising their sum does), and the final
        answer taken from the larger of 2 clusters of completions."""
        settings = dict(advantage_temperature=0.1, alignment_temperature=1.0,
                        final_choice="largest_of_2_clusters", preset="released")
        return cls(**(settings | overrides))

    @property
    def label(self) -> str:
        off = [name for name in ("foresight", "cluster", "width_pruning", "depth_pruning") if not getattr(self, name)]
        parts = ["phi" if self.preset == "paper" else f"phi-{self.preset}"]
        parts += [f"no-{name.replace('_pruning', '-pruning')}" for name in off]
        return "-".join(parts)


@dataclass
class Beam:
    """An accepted partial solution: its text (steps, one per line) and value bookkeeping."""

    text: str = ""
    f_prev: float = 0.0  # foresight value of the last accepted step
    advantage: float = 0.0  # advantage of the last accepted step
    finished: bool = False  # the model ended the solution inside this beam
    path: str = ""  # the foresight path of the last accepted step (for finished beams: the text)


@dataclass
class Candidate:
    beam: int
    step: Sample
    kept: bool = True
    topped_up: bool = False
    foresight_text: str = ""
    value: float = 0.0  # F
    advantage: float = 0.0  # A
    cluster: int = -1
    alignment: float = 0.0  # C
    weight: float = 0.0
    selected: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        return self.step.ended_sequence

    def trace(self) -> dict[str, Any]:
        return {
            "beam": self.beam, "text": self.step.text, "score": self.step.mean_logprob, "terminal": self.terminal,
            "kept": self.kept, "topped_up": self.topped_up, "foresight": self.foresight_text, "F": self.value,
            "A": self.advantage, "cluster": self.cluster, "C": self.alignment, "weight": self.weight,
            "selected": self.selected,
        }


def phi_program(config: PhiConfig, prompt: str, extract: AnswerExtractor, rng: np.random.Generator) -> Program:
    root = prompt + config.step_prefix
    beams = [Beam() for _ in range(config.beams)]
    steps_trace: list[dict[str, Any]] = []
    stop_reason = "max_steps"
    for step in range(1, config.max_steps + 1):
        active = [i for i, beam in enumerate(beams) if not beam.finished]
        candidates = yield from _roll_out_steps(config, root, beams, active, rng)
        kept = _prune_in_width(config, candidates, rng)
        yield from _look_ahead(config, root, beams, kept, rng)
        labels = _align(config, kept, rng)
        slots = config.beams - sum(beam.finished for beam in beams)
        chosen = _select(config, kept, slots, rng)
        beams = [beam for beam in beams if beam.finished] + [_accept(beams[c.beam], c) for c in chosen]
        record = {"step": step, "candidates": [c.trace() for c in candidates], "stop": None}
        steps_trace.append(record)
        reason = _should_stop(config, step, kept, labels, beams)
        if reason is not None:
            stop_reason = record["stop"] = reason
            break
    final = yield from _finish(config, root, beams, rng)
    response = final["response"]
    return StrategyResult(
        response=response,
        answer=extract(response),
        trace={"steps": steps_trace, "stop_reason": stop_reason, "final": final["trace"]},
    )


def _roll_out_steps(config: PhiConfig, root: str, beams: list[Beam], active: list[int], rng: np.random.Generator):
    """N one-line candidates per active beam; beams with identical text share one request."""
    groups: dict[str, list[int]] = {}
    for index in active:
        groups.setdefault(beams[index].text, []).append(index)
    requests = [
        GenerationRequest(root + text, n=config.rollouts * len(members), temperature=config.step_temperature,
                          max_tokens=config.max_step_tokens, stop=("\n",), seed=request_seed(rng))
        for text, members in groups.items()
    ]
    completions: list[Completion] = yield requests
    candidates: list[Candidate] = []
    for members, completion in zip(groups.values(), completions):
        for offset, sample in enumerate(completion.samples):
            candidates.append(Candidate(beam=members[offset // config.rollouts], step=sample))
    return candidates


def _prune_in_width(config: PhiConfig, candidates: list[Candidate], rng: np.random.Generator) -> list[Candidate]:
    if not config.width_pruning:
        return candidates
    kept, topped_up = width_prune([c.step.mean_logprob for c in candidates], config.beams, config.width_k, rng)
    for i, candidate in enumerate(candidates):
        candidate.kept = i in kept
        candidate.topped_up = i in topped_up
    return [candidates[i] for i in kept]


def _look_ahead(config: PhiConfig, root: str, beams: list[Beam], kept: list[Candidate], rng: np.random.Generator):
    """Foresight: complete each kept candidate's solution; F, A from the rollout's mean log-prob.

    A candidate that already ended the solution needs no rollout: its own step is its path and
    its value. Without foresight (ablation) a step is valued by its own score.
    """
    rolling = [c for c in kept if config.foresight and not c.terminal]
    completions: list[Completion] = (
        (yield [
            GenerationRequest(root + beams[c.beam].text + c.step.text + "\n", n=1,
                              temperature=config.foresight_temperature, max_tokens=config.max_tokens,
                              seed=request_seed(rng))
            for c in rolling
        ])
        if rolling else []
    )
    rollout_of = {id(c): completion.samples[0] for c, completion in zip(rolling, completions)}
    for candidate in kept:
        rollout = rollout_of.get(id(candidate))
        if rollout is not None:
            candidate.foresight_text = rollout.text
            candidate.value = rollout.mean_logprob
        else:
            candidate.value = candidate.step.mean_logprob
        candidate.advantage = candidate.value - beams[candidate.beam].f_prev


def _path_text(candidate: Candidate) -> str:
    return candidate.step.text + ("\n" + candidate.foresight_text if candidate.foresight_text else "")


def _align(config: PhiConfig, kept: list[Candidate], rng: np.random.Generator) -> list[int] | None:
    """Cluster the foresight paths; sets each candidate's cluster and alignment C."""
    if not config.foresight or not (config.cluster or config.depth_pruning):
        return None
    labels = cluster_texts([_path_text(c) for c in kept], config.clusters, config.clustering,
                           seed=int(rng.integers(0, 2**31)))
    for candidate, label, alignment in zip(kept, labels, alignment_scores(labels)):
        candidate.cluster, candidate.alignment = label, alignment
    return labels


def _select(config: PhiConfig, kept: list[Candidate], slots: int, rng: np.random.Generator) -> list[Candidate]:
    """Draw the next beams without replacement from the joint distribution."""
    if not config.foresight:
        weights = softmax([c.step.mean_logprob for c in kept], config.advantage_temperature)
    elif not config.cluster:
        weights = softmax([c.advantage for c in kept], config.advantage_temperature)
    else:
        weights = joint_weights([c.advantage for c in kept], [c.alignment for c in kept],
                                config.advantage_temperature, config.alignment_temperature)
    for candidate, weight in zip(kept, weights):
        candidate.weight = float(weight)
    chosen = [kept[i] for i in sample_without_replacement(weights, slots, rng)]
    for candidate in chosen:
        candidate.selected = True
    return chosen


def _accept(parent: Beam, candidate: Candidate) -> Beam:
    return Beam(
        text=parent.text + candidate.step.text + ("" if candidate.terminal else "\n"),
        f_prev=candidate.value,
        advantage=candidate.advantage,
        finished=candidate.terminal,
        path=_path_text(candidate),
    )


def _should_stop(config: PhiConfig, step: int, kept: list[Candidate], labels: list[int] | None,
                 beams: list[Beam]) -> str | None:
    """Why stepping ends after this step (the step itself is kept), or None to go on."""
    if all(beam.finished for beam in beams):
        return "all_beams_finished"
    if config.depth_pruning and config.foresight and step >= config.min_steps:
        if len({_path_text(c) for c in kept}) == 1:
            return "identical_foresight"
        if labels is not None and largest_cluster_share(labels) >= config.depth_threshold:
            return "depth_threshold"
    return None


def _finish(config: PhiConfig, root: str, beams: list[Beam], rng: np.random.Generator):
    """Complete unfinished beams, then choose one completion (SPEC §1 step 7)."""
    open_beams = [b for b in beams if not b.finished]
    completions: list[Completion] = (
        (yield [
            GenerationRequest(root + b.text, n=1, temperature=config.foresight_temperature,
                              max_tokens=config.max_tokens, seed=request_seed(rng))
            for b in open_beams
        ])
        if open_beams else []
    )
    done = {id(b): c.samples[0] for b, c in zip(open_beams, completions)}
    texts, advantages = [], []
    for beam in beams:
        sample = done.get(id(beam))
        if sample is None:
            texts.append(beam.text)
            advantages.append(beam.advantage)
        else:
            texts.append(beam.text + sample.text)
            advantages.append(sample.mean_logprob - beam.f_prev)
    labels = cluster_texts(texts, config.clusters, config.clustering, seed=int(rng.integers(0, 2**31)))
    alignments = alignment_scores(labels)
    if config.final_choice == "largest_of_2_clusters":
        chosen = _largest_of_two_clusters(texts, advantages, config, rng)
        weights = [1.0 if i == chosen else 0.0 for i in range(len(texts))]
    else:
        weights = joint_weights(advantages, alignments, config.advantage_temperature, config.alignment_temperature)
        chosen = int(rng.choice(len(texts), p=weights))
    trace = {
        "completions": [
            {"text": t, "A": a, "cluster": label, "C": c, "weight": float(w)}
            for t, a, label, c, w in zip(texts, advantages, labels, alignments, weights)
        ],
        "chosen": chosen,
    }
    return {"response": texts[chosen], "trace": trace}


def _largest_of_two_clusters(texts: list[str], advantages: list[float], config: PhiConfig,
                             rng: np.random.Generator) -> int:
    """Released script's final rule: 2 clusters of completions, the larger wins, and within it
    the completion with the highest advantage."""
    labels = cluster_texts(texts, 2, config.clustering, seed=int(rng.integers(0, 2**31)))
    sizes = {label: labels.count(label) for label in labels}
    winner = max(sizes, key=lambda label: (sizes[label], -label))
    members = [i for i, label in enumerate(labels) if label == winner]
    return max(members, key=lambda i: advantages[i])


def phi_config(preset: str = "paper", **options: Any) -> PhiConfig:
    """A config from a preset name (`paper` or `released`) and field overrides."""
    if preset == "released":
        return PhiConfig.released(**options)
    if preset != "paper":
        raise ValueError(f"unknown preset '{preset}'; choose paper or released")
    return PhiConfig(**options)
