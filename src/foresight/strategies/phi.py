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

from dataclasses import dataclass
from typing import Any

import numpy as np

from foresight.driver import Program
from foresight.engine.types import Sample
from foresight.strategies.base import AnswerExtractor, StrategyResult
from foresight.strategies.clustering import alignment_scores, cluster_texts, largest_cluster_share
from foresight.strategies.selection import joint_weights, softmax, width_prune
from foresight.strategies.stepwise import (
    Beam, Candidate, assign_values, complete_beams, draw_next_beams, look_ahead, roll_out_steps,
)

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
    clustering: str = "tfidf"  # path representation for k-means: "tfidf" or "embedding" (all-MiniLM-L6-v2)
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


def phi_program(config: PhiConfig, prompt: str, extract: AnswerExtractor, rng: np.random.Generator) -> Program:
    root = prompt + config.step_prefix
    beams = [Beam() for _ in range(config.beams)]
    steps_trace: list[dict[str, Any]] = []
    stop_reason = "max_steps"
    for step in range(1, config.max_steps + 1):
        candidates = yield from roll_out_steps(root, beams, config.rollouts, config.step_temperature,
                                               config.max_step_tokens, rng)
        kept = _prune_in_width(config, candidates, rng)
        if config.foresight:
            yield from look_ahead(root, beams, kept, config.foresight_temperature, config.max_tokens, rng)
        assign_values(beams, kept)
        labels = _align(config, kept, rng)
        _, beams = draw_next_beams(config.beams, beams, kept, _selection_weights(config, kept), rng)
        record = {"step": step, "candidates": [c.trace() for c in candidates], "stop": None}
        steps_trace.append(record)
        reason = _should_stop(config, step, kept, labels, beams)
        if reason is not None:
            stop_reason = record["stop"] = reason
            break
    solutions = yield from complete_beams(root, beams, config.foresight_temperature, config.max_tokens, rng)
    chosen, final_trace = _choose_final(config, beams, solutions, rng)
    response = solutions[chosen][0]
    return StrategyResult(
        response=response,
        answer=extract(response),
        trace={"steps": steps_trace, "stop_reason": stop_reason, "final": final_trace},
    )


def _prune_in_width(config: PhiConfig, candidates: list[Candidate], rng: np.random.Generator) -> list[Candidate]:
    if not config.width_pruning:
        return candidates
    kept, topped_up = width_prune([c.step.mean_logprob for c in candidates], config.beams, config.width_k, rng)
    for i, candidate in enumerate(candidates):
        candidate.kept = i in kept
        candidate.topped_up = i in topped_up
    return [candidates[i] for i in kept]


def _align(config: PhiConfig, kept: list[Candidate], rng: np.random.Generator) -> list[int] | None:
    """Cluster the foresight paths; sets each candidate's cluster and alignment C."""
    if not config.foresight or not (config.cluster or config.depth_pruning):
        return None
    labels = cluster_texts([c.path_text for c in kept], config.clusters, config.clustering,
                           seed=int(rng.integers(0, 2**31)))
    for candidate, label, alignment in zip(kept, labels, alignment_scores(labels)):
        candidate.cluster, candidate.alignment = label, alignment
    return labels


def _selection_weights(config: PhiConfig, kept: list[Candidate]) -> np.ndarray:
    """The distribution the next beams are drawn from: the joint one, or what an ablation leaves."""
    if not config.foresight:
        return softmax([c.step.mean_logprob for c in kept], config.advantage_temperature)
    if not config.cluster:
        return softmax([c.advantage for c in kept], config.advantage_temperature)
    return joint_weights([c.advantage for c in kept], [c.alignment for c in kept],
                         config.advantage_temperature, config.alignment_temperature)


def _should_stop(config: PhiConfig, step: int, kept: list[Candidate], labels: list[int] | None,
                 beams: list[Beam]) -> str | None:
    """Why stepping ends after this step (the step itself is kept), or None to go on."""
    if all(beam.finished for beam in beams):
        return "all_beams_finished"
    if config.depth_pruning and config.foresight and step >= config.min_steps:
        if len({c.path_text for c in kept}) == 1:
            return "identical_foresight"
        if labels is not None and largest_cluster_share(labels) >= config.depth_threshold:
            return "depth_threshold"
    return None


def _choose_final(config: PhiConfig, beams: list[Beam], solutions: list[tuple[str, Sample | None]],
                  rng: np.random.Generator) -> tuple[int, dict[str, Any]]:
    """SPEC §1 step 7: value each beam's completion (advantage vs the beam's F_prev, cluster
    alignment) and draw one by the joint rule; a finished beam keeps its last advantage."""
    texts = [text for text, _ in solutions]
    advantages = [beam.advantage if sample is None else sample.mean_logprob - beam.f_prev
                  for beam, (_, sample) in zip(beams, solutions)]
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
    return chosen, trace


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
