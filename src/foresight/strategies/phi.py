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
from typing import Any, ClassVar

import numpy as np

from foresight.driver import Program
from foresight.engine.types import Sample
from foresight.errors import OptionValueError
from foresight.options import option
from foresight.ranges import AT_LEAST_1, NON_NEGATIVE, POSITIVE, UNIT_INTERVAL
from foresight.strategies.base import StrategyContext, StrategyResult
from foresight.strategies.clustering import alignment_scores, cluster_texts, largest_cluster_share
from foresight.strategies.selection import joint_weights, softmax, width_prune
from foresight.strategies.step_traces import FilterTrace, FinalCompletion, FinalTrace, StepSearchTrace, StepTrace
from foresight.strategies.stepwise import (  # STEP_PREFIX: φ's opening, importable from here too
    STEP_PREFIX, Beam, Candidate, StepSearchSettings, assign_values, complete_beams, draw_next_beams, look_ahead,
    open_search, roll_out_steps,
)

#: The switches on which the released preset departs from the paper (SPEC §1 "The `released`
#: preset"); a config's label names each one set otherwise than its preset sets it.
RELEASED_SETTINGS: dict[str, Any] = dict(
    advantage_temperature=0.1, alignment_temperature=1.0, advantage_filter=True,
    strict_depth_threshold=True, identical_stop="selected_steps", final_choice="largest_of_2_clusters",
)
FINAL_CHOICES = ("joint", "largest_of_2_clusters")
IDENTICAL_STOPS = ("foresight", "selected_steps")
CLUSTERINGS = ("tfidf", "embedding")
PRESETS_NAMES = ("paper", "released")


@dataclass(frozen=True)
class PhiConfig(StepSearchSettings):
    """φ-Decoding settings; defaults are the paper's (SPEC §1), `released()` the authors' script's."""

    #: What each preset sets otherwise than the paper (shown in --help beside the defaults).
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {"released": RELEASED_SETTINGS}

    name: str = "phi"
    preset: str = option("paper", "the paper's settings, or the authors' released script's", choices=PRESETS_NAMES)
    beams: int = option(4, "M, beams kept per step")
    rollouts: int = option(4, "N, candidate steps sampled per beam")
    clusters: int = option(3, "K, k-means clusters over foresight paths")
    depth_threshold: float = option(0.7, "delta: stop stepping once the largest cluster holds this share")
    width_k: float = option(1.0, "k: in-width pruning keeps step scores >= mean - k*std")
    min_steps: int = option(4, "T_min: no in-depth pruning before this step")
    max_steps: int = option(8, "T_max, cap on steps")
    advantage_temperature: float = option(
        0.6, "tau1 in softmax(A/tau1), also of the filter's fallback and the released final draw")
    alignment_temperature: float = option(0.6, "tau2 in softmax(C/tau2)")
    # The script's adv_above0: when fewer qualify than beams to fill (steps) or none (final),
    # the draw falls back to softmax(A/τ1) over all of them.
    advantage_filter: bool = option(
        False, "choose steps and the final completion only among those with A > 0 and non-empty text, "
               "clustered among themselves, falling back to softmax(A/tau1) over all when too few qualify")
    strict_depth_threshold: bool = option(
        False, "in-depth pruning needs the largest cluster's share > delta (script) rather than >= delta (paper)")
    identical_stop: str = option(
        "foresight", "stop when all kept candidates' foresight texts are identical from T_min on (foresight), "
                     "or the M selected steps from T_min+1 on (selected_steps)", choices=IDENTICAL_STOPS)
    final_choice: str = option(
        "joint", "final completion drawn by the joint rule over K clusters of the completions (joint), or by "
                 "softmax(A/tau1) inside the larger of 2 clusters, ties to the second (largest_of_2_clusters)",
        choices=FINAL_CHOICES)
    foresight: bool = option(True, "ablation: off values steps by their own score")
    cluster: bool = option(True, "ablation: off selects on advantage alone")
    width_pruning: bool = option(True, "ablation: off keeps every candidate")
    depth_pruning: bool = option(True, "ablation: off always runs T_max steps")
    clustering: str = option("tfidf", "path representation for k-means: tfidf, or embedding (all-MiniLM-L6-v2)",
                             choices=CLUSTERINGS)

    def __post_init__(self) -> None:
        super().__post_init__()
        AT_LEAST_1.check(self, "beams", "rollouts", "clusters", "min_steps", "max_steps")
        UNIT_INTERVAL.check(self, "depth_threshold")
        NON_NEGATIVE.check(self, "width_k")
        POSITIVE.check(self, "advantage_temperature", "alignment_temperature")
        for name, allowed in (("final_choice", FINAL_CHOICES), ("identical_stop", IDENTICAL_STOPS),
                              ("preset", PRESETS_NAMES), ("clustering", CLUSTERINGS)):
            if getattr(self, name) not in allowed:
                raise OptionValueError(name, f"one of {', '.join(allowed)}", getattr(self, name))

    @classmethod
    def released(cls, **overrides: Any) -> "PhiConfig":
        """The authors' released script (`phi_decoding-origin.py`): every switch of
        RELEASED_SETTINGS. τ2 = 1 because the script averages softmax(A/0.1) and softmax(C),
        which is what normalising their sum does."""
        return cls(**(RELEASED_SETTINGS | {"preset": "released"} | overrides))

    @property
    def label(self) -> str:
        """Run name: the preset, each ablation, and each released-preset switch set otherwise
        than the preset sets it (e.g. `phi-released-no-advantage-filter`)."""
        off = [name for name in ("foresight", "cluster", "width_pruning", "depth_pruning") if not getattr(self, name)]
        parts = ["phi" if self.preset == "paper" else f"phi-{self.preset}"]
        parts += [f"no-{name.replace('_pruning', '-pruning')}" for name in off]
        preset = PhiConfig.released() if self.preset == "released" else PhiConfig()
        for name in RELEASED_SETTINGS:
            value = getattr(self, name)
            if value != getattr(preset, name):
                flag = name.replace("_", "-")
                parts.append(flag if value is True else f"no-{flag}" if value is False else f"{flag}-{value}")
        return "-".join(parts)


def phi_program(config: PhiConfig, context: StrategyContext) -> Program:
    rng = context.rng
    root, beams = open_search(context.prompt, config)
    steps_trace: list[StepTrace] = []
    stop_reason = "max_steps"
    for step in range(1, config.max_steps + 1):
        candidates = yield from roll_out_steps(root, beams, config.rollouts, config.step_temperature,
                                               config.max_step_tokens, rng)
        kept = _prune_in_width(config, candidates, rng)
        if config.foresight:
            yield from look_ahead(root, beams, kept, config.foresight_temperature, config.max_tokens, rng)
        assign_values(beams, kept)
        open_slots = sum(not beam.finished for beam in beams)
        pool, weights, labels, fallback = _step_selection(config, kept, open_slots, rng)
        drawn, beams = draw_next_beams(config.beams, beams, pool, weights, rng)
        record = StepTrace(step, [c.trace() for c in candidates])
        if config.advantage_filter:
            record.filter = FilterTrace(qualified=sum(bool(c.qualified) for c in kept), fallback=fallback)
        steps_trace.append(record)
        reason = _should_stop(config, step, kept, labels, [pool[i].step.text for i in drawn], beams)
        if reason is not None:
            stop_reason = record.stop = reason
            break
    solutions = yield from complete_beams(root, beams, config.foresight_temperature, config.max_tokens, rng)
    chosen, final_trace = _choose_final(config, beams, solutions, rng)
    response = solutions[chosen][0]
    return StrategyResult(
        response=response,
        answer=context.extract(response),
        trace=StepSearchTrace(steps=steps_trace, final=final_trace, stop_reason=stop_reason),
    )


def _prune_in_width(config: PhiConfig, candidates: list[Candidate], rng: np.random.Generator) -> list[Candidate]:
    if not config.width_pruning:
        return candidates
    kept, topped_up = width_prune([c.step.mean_logprob for c in candidates], config.beams, config.width_k, rng)
    for i, candidate in enumerate(candidates):
        candidate.kept = i in kept
        candidate.topped_up = i in topped_up
    return [candidates[i] for i in kept]


def _qualifies(advantage: float, text: str) -> bool:
    """The positive-advantage filter: A > 0 and some text (the script's `adv > 0 and text != ''`)."""
    return advantage > 0 and bool(text.strip())


def _step_selection(config: PhiConfig, kept: list[Candidate], open_slots: int, rng: np.random.Generator,
                    ) -> tuple[list[Candidate], np.ndarray, list[int] | None, bool]:
    """What the next beams are drawn from (SPEC §1 step 5): the candidates in the draw, their
    weights, those candidates' cluster labels (None when not clustered) and whether the
    positive-advantage filter fell back to softmax(A/τ1) over every kept candidate."""
    pool = kept
    if config.advantage_filter:
        for candidate in kept:
            candidate.qualified = _qualifies(candidate.advantage, candidate.outcome_text)
        pool = [c for c in kept if c.qualified]
        if len(pool) < open_slots:
            return kept, softmax([c.advantage for c in kept], config.advantage_temperature), None, True
    labels = _align(config, pool, rng)
    return pool, _selection_weights(config, pool), labels, False


def _align(config: PhiConfig, pool: list[Candidate], rng: np.random.Generator) -> list[int] | None:
    """Cluster the foresight texts of `pool`; sets each candidate's cluster and alignment C."""
    if not config.foresight or not (config.cluster or config.depth_pruning):
        return None
    labels = cluster_texts([c.outcome_text for c in pool], config.clusters, config.clustering,
                           seed=int(rng.integers(0, 2**31)))
    for candidate, label, alignment in zip(pool, labels, alignment_scores(labels)):
        candidate.cluster, candidate.alignment = label, alignment
    return labels


def _selection_weights(config: PhiConfig, pool: list[Candidate]) -> np.ndarray:
    """The distribution the next beams are drawn from: the joint one, or what an ablation leaves."""
    if not config.foresight:
        return softmax([c.step.mean_logprob for c in pool], config.advantage_temperature)
    if not config.cluster:
        return softmax([c.advantage for c in pool], config.advantage_temperature)
    return joint_weights([c.advantage for c in pool], [c.alignment for c in pool],
                         config.advantage_temperature, config.alignment_temperature)


def _should_stop(config: PhiConfig, step: int, kept: list[Candidate], labels: list[int] | None,
                 selected_steps: list[str], beams: list[Beam]) -> str | None:
    """Why stepping ends after this step (the step itself is kept), or None to go on. `labels`
    are the clusters of the candidates in the draw (the qualifying ones under the filter)."""
    if all(beam.finished for beam in beams):
        return "all_beams_finished"
    if not (config.depth_pruning and config.foresight):
        return None
    if config.identical_stop == "foresight":
        if step >= config.min_steps and len({c.outcome_text for c in kept}) == 1:
            return "identical_foresight"
    elif step > config.min_steps and len({text.strip() for text in selected_steps}) == 1:
        return "identical_steps"
    if step >= config.min_steps and labels is not None:
        share = largest_cluster_share(labels)
        if share > config.depth_threshold or (share == config.depth_threshold and not config.strict_depth_threshold):
            return "depth_threshold"
    return None


def _choose_final(config: PhiConfig, beams: list[Beam], solutions: list[tuple[str, Sample | None]],
                  rng: np.random.Generator) -> tuple[int, FinalTrace]:
    """SPEC §1 step 7: value each beam's completion (advantage vs the beam's F_prev; a finished
    beam keeps its last step's) and draw one. The texts clustered are the completions alone (a
    finished beam's: its last step), never the shared prefix."""
    texts = [beam.last_step if sample is None else sample.text for beam, (_, sample) in zip(beams, solutions)]
    advantages = [beam.advantage if sample is None else sample.mean_logprob - beam.f_prev
                  for beam, (_, sample) in zip(beams, solutions)]
    qualified = [_qualifies(a, t) if config.advantage_filter else None for a, t in zip(advantages, texts)]
    pool = [i for i, q in enumerate(qualified) if q is not False]
    labels, alignments, weights = [-1] * len(texts), [0.0] * len(texts), np.zeros(len(texts))
    # The script's 2-means cannot split fewer than 2 completions and falls back like the filter.
    fallback = len(pool) < (2 if config.final_choice == "largest_of_2_clusters" else 1)
    if fallback:
        weights = softmax(advantages, config.advantage_temperature)
    else:
        clusters = 2 if config.final_choice == "largest_of_2_clusters" else config.clusters
        pool_labels = cluster_texts([texts[i] for i in pool], clusters, config.clustering,
                                    seed=int(rng.integers(0, 2**31)))
        for i, label, alignment in zip(pool, pool_labels, alignment_scores(pool_labels)):
            labels[i], alignments[i] = label, alignment
        if config.final_choice == "largest_of_2_clusters":
            members = _largest_cluster_members(pool, pool_labels)
            weights[members] = softmax([advantages[i] for i in members], config.advantage_temperature)
        else:
            weights[pool] = joint_weights([advantages[i] for i in pool], [alignments[i] for i in pool],
                                          config.advantage_temperature, config.alignment_temperature)
    chosen = int(rng.choice(len(texts), p=weights))
    completions = [
        FinalCompletion(text=full, completion=t, weight=float(w), A=a, C=c, cluster=label, qualified=q)
        for (full, _), t, a, q, label, c, w in zip(solutions, texts, advantages, qualified, labels, alignments, weights)
    ]
    return chosen, FinalTrace(completions, chosen=chosen, fallback=fallback)


def _largest_cluster_members(indices: list[int], labels: list[int]) -> list[int]:
    """The members of the larger of the clusters; on a tie, of the later-numbered one (the
    script's `len(cluster0) > len(cluster1)` else cluster1)."""
    sizes = {label: labels.count(label) for label in labels}
    winner = max(sizes, key=lambda label: (sizes[label], label))
    return [i for i, label in zip(indices, labels) if label == winner]


def phi_config(preset: str = "paper", **options: Any) -> PhiConfig:
    """A config from a preset name (`paper` or `released`) and field overrides."""
    if preset == "released":
        return PhiConfig.released(**options)
    if preset != "paper":
        raise ValueError(f"unknown preset '{preset}'; choose paper or released")
    return PhiConfig(**options)
