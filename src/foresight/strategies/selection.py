"""Step valuation and selection rules shared by the foresight strategies (SPEC §1 steps 2, 5, 6).

All randomness comes from the caller's `numpy.random.Generator`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def softmax(values: Sequence[float], temperature: float = 1.0) -> np.ndarray:
    """Numerically stable softmax of `values / temperature`."""
    scaled = np.asarray(values, dtype=np.float64) / temperature
    scaled -= scaled.max()
    weights = np.exp(scaled)
    return weights / weights.sum()


def sample_without_replacement(weights: Sequence[float], k: int, rng: np.random.Generator) -> list[int]:
    """Up to `k` distinct indices, drawn one by one with probability proportional to `weights`.

    Zero-weight items are drawn only once every positive-weight item is taken.
    """
    weights = np.asarray(weights, dtype=np.float64)
    k = min(k, len(weights))
    positive = int((weights > 0).sum())
    chosen = list(rng.choice(len(weights), size=min(k, positive), replace=False, p=weights / weights.sum())) if positive else []
    rest = [i for i in range(len(weights)) if i not in chosen]
    if len(chosen) < k:
        chosen += list(rng.choice(rest, size=k - len(chosen), replace=False))
    return [int(i) for i in chosen]


def width_prune(scores: Sequence[float], keep_at_least: int, k_sigma: float, rng: np.random.Generator,
                top_up_temperature: float = 0.1) -> tuple[list[int], list[int]]:
    """In-width pruning: keep candidates with score >= mean - k·std (population std).

    If fewer than `keep_at_least` survive, pruned candidates are drawn back without replacement
    with weights softmax(score / top_up_temperature). Returns (kept, topped_up) index lists;
    `topped_up` is the subset of `kept` that came back through the top-up.
    """
    scores = np.asarray(scores, dtype=np.float64)
    threshold = scores.mean() - k_sigma * scores.std()
    survivors = [i for i in range(len(scores)) if scores[i] >= threshold]
    missing = keep_at_least - len(survivors)
    if missing <= 0:
        return survivors, []
    pruned = [i for i in range(len(scores)) if scores[i] < threshold]
    drawn = [pruned[j] for j in sample_without_replacement(softmax(scores[pruned], top_up_temperature), missing, rng)]
    return sorted(survivors + drawn), drawn


def joint_weights(advantages: Sequence[float], alignments: Sequence[float], advantage_temperature: float,
                  alignment_temperature: float) -> np.ndarray:
    """φ-Decoding's selection distribution: softmax(A/τ1) + softmax(C/τ2), normalised."""
    combined = softmax(advantages, advantage_temperature) + softmax(alignments, alignment_temperature)
    return combined / combined.sum()
