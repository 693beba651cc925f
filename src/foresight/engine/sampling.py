"""Batch-invariant token sampling.

Each row of a batch draws its randomness from a counter-based hash of (request seed, sample
index, step, token id) instead of a shared generator. A sample's tokens therefore depend only
on its own seed and the model's logits, never on which other requests share the batch or in
which order they arrive: the driver can merge any set of questions into one engine call and
still reproduce a one-question-at-a-time run exactly.

Sampling is the Gumbel-max trick: argmax(logits / T + Gumbel noise) is an exact draw from
softmax(logits / T).
"""

from __future__ import annotations

import torch

_MASK32 = 0xFFFFFFFF
_GOLDEN = 0x9E3779B9


def _mix32(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer hash with good avalanche (Wellons' lowbias32) on int64 tensors.

    Values stay in [0, 2^32); products may wrap in int64, but only their low 32 bits are kept,
    which wrapping preserves.
    """
    x = x & _MASK32
    x = ((x ^ (x >> 16)) * 0x7FEB352D) & _MASK32
    x = ((x ^ (x >> 15)) * 0x846CA68B) & _MASK32
    return x ^ (x >> 16)


def row_keys(seeds: torch.Tensor, sample_indices: torch.Tensor) -> torch.Tensor:
    """One 32-bit stream key per row from its request seed (any int64) and sample index."""
    seeds = seeds.to(torch.int64)
    low, high = seeds & _MASK32, (seeds >> 32) & _MASK32
    key = _mix32(_mix32(low) ^ _mix32(high + _GOLDEN))
    return _mix32(key ^ _mix32(sample_indices.to(torch.int64) * _GOLDEN + 1))


def gumbel_noise(keys: torch.Tensor, step: int, vocab_size: int) -> torch.Tensor:
    """Standard Gumbel noise of shape [rows, vocab_size] for decoding step `step`."""
    step_keys = _mix32(keys ^ _mix32(torch.full_like(keys, step) * 0x85EBCA6B + 7))
    token_ids = torch.arange(vocab_size, dtype=torch.int64, device=keys.device)
    bits = _mix32(_mix32(step_keys[:, None] + token_ids[None, :] * _GOLDEN) ^ step_keys[:, None])
    uniform = (bits.to(torch.float64) + 0.5) / 4294967296.0
    return -torch.log(-torch.log(uniform))


def top_p_mask(scaled_logits: torch.Tensor, top_p: torch.Tensor) -> torch.Tensor:
    """Boolean mask of the tokens outside each row's nucleus (smallest set with mass >= top_p)."""
    probs = torch.softmax(scaled_logits, dim=-1)
    sorted_probs, order = probs.sort(dim=-1, descending=True)
    mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs
    outside_sorted = mass_before >= top_p[:, None]
    return torch.zeros_like(outside_sorted).scatter(-1, order, outside_sorted)


def sample_tokens(
    logits: torch.Tensor,
    keys: torch.Tensor,
    step: int,
    temperature: torch.Tensor,
    top_p: torch.Tensor,
) -> torch.Tensor:
    """Next token per row: greedy where temperature == 0, else a keyed draw from the
    temperature-scaled (and nucleus-truncated) distribution."""
    greedy = logits.argmax(dim=-1)
    sampled_rows = temperature > 0
    if not bool(sampled_rows.any()):
        return greedy
    rows = sampled_rows.nonzero(as_tuple=True)[0]
    scaled = logits[rows].to(torch.float64) / temperature[rows, None].to(torch.float64)
    truncated = top_p[rows] < 1.0
    if bool(truncated.any()):
        scaled = scaled.masked_fill(top_p_mask(scaled, top_p[rows].to(torch.float64)), float("-inf"))
    noisy = scaled + gumbel_noise(keys[rows], step, logits.shape[-1])
    tokens = greedy.clone()
    tokens[rows] = noisy.argmax(dim=-1)
    return tokens
