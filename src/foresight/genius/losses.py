"""Preference losses as pure functions of per-pair log-prob tensors (SPEC §3 steps 4-5).

Every function takes a `PairLogps` (summed response log-probs of the policy and the reference
for the chosen and rejected sides, the response token counts, and the pairs' advantages) and
returns the per-pair loss, shape (batch,). The trainer averages it. Keeping the losses free of
any trainer state makes each one checkable on hand-made numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class PairLogps:
    """Log-prob sums over response tokens for a batch of preference pairs."""

    policy_chosen: torch.Tensor
    policy_rejected: torch.Tensor
    reference_chosen: torch.Tensor
    reference_rejected: torch.Tensor
    chosen_tokens: torch.Tensor  # response token counts (for length-normalised losses)
    rejected_tokens: torch.Tensor
    advantage_chosen: torch.Tensor | None = None  # A_w, from foresight re-sampling
    advantage_rejected: torch.Tensor | None = None  # A_l

    @property
    def chosen_logratio(self) -> torch.Tensor:
        """Δ_w = log πθ(T_w|x) − log πref(T_w|x)."""
        return self.policy_chosen - self.reference_chosen

    @property
    def rejected_logratio(self) -> torch.Tensor:
        """Δ_l = log πθ(T_l|x) − log πref(T_l|x)."""
        return self.policy_rejected - self.reference_rejected


@dataclass(frozen=True)
class LossSettings:
    """Hyper-parameters of the losses; defaults are the papers' (SPEC §3, and each loss's paper)."""

    beta: float = 0.1  # β of DPO / ACO / IPO (IPO's τ) / ROPO
    alpha: float = 1.0  # α of ACO's calibration weight
    simpo_beta: float = 2.0  # SimPO's β (its paper's range is 2 to 2.5)
    simpo_gamma: float = 1.0  # SimPO's target margin γ
    ropo_alpha: float = 0.2  # ROPO: weight of the noise-tolerant term σ(−β·h)
    ropo_gamma: float = 0.1  # ROPO: weight of the DPO term
    nll_weight: float = 0.0  # weight of the chosen side's per-token NLL added to any loss (RPO); 0: none


def aco_weight(advantage_chosen: torch.Tensor, advantage_rejected: torch.Tensor, alpha: float) -> torch.Tensor:
    """Genius's calibration weight w = min(1, exp(−(A_l − A_w)/α)).

    w = 1 when the rejected step's advantage does not exceed the chosen one's (plain DPO); w < 1
    when it does (the calibration region), so a negative that foresight rated well is punished
    less. As α → ∞, w → 1 everywhere.
    """
    return torch.clamp(torch.exp(-(advantage_rejected - advantage_chosen) / alpha), max=1.0)


def released_aco_weight(advantage_chosen: torch.Tensor, advantage_rejected: torch.Tensor,
                        alpha: float) -> torch.Tensor:
    """The authors' released code: max(1, ·), the opposite of the paper's description.
    Kept only to reproduce their runs (SPEC §3 step 4)."""
    return torch.clamp(torch.exp(-(advantage_rejected - advantage_chosen) / alpha), min=1.0)


def _require_advantages(pairs: PairLogps, loss: str) -> tuple[torch.Tensor, torch.Tensor]:
    if pairs.advantage_chosen is None or pairs.advantage_rejected is None:
        raise ValueError(f"loss '{loss}' needs the advantage columns (advantage_chosen, advantage_rejected)")
    return pairs.advantage_chosen, pairs.advantage_rejected


def aco_loss(pairs: PairLogps, settings: LossSettings) -> torch.Tensor:
    """ACO as the paper defines it: −log σ(β·Δ_w − β·w·Δ_l), w = min(1, exp(−(A_l − A_w)/α))."""
    a_w, a_l = _require_advantages(pairs, "aco")
    weight = aco_weight(a_w, a_l, settings.alpha)
    return -F.logsigmoid(settings.beta * (pairs.chosen_logratio - weight * pairs.rejected_logratio))


def aco_released_loss(pairs: PairLogps, settings: LossSettings) -> torch.Tensor:
    """ACO as the authors' code computes it (weight max(1, ·))."""
    a_w, a_l = _require_advantages(pairs, "aco-released")
    weight = released_aco_weight(a_w, a_l, settings.alpha)
    return -F.logsigmoid(settings.beta * (pairs.chosen_logratio - weight * pairs.rejected_logratio))


def dpo_loss(pairs: PairLogps, settings: LossSettings) -> torch.Tensor:
    """DPO, sigmoid form: −log σ(β·(Δ_w − Δ_l))."""
    return -F.logsigmoid(settings.beta * (pairs.chosen_logratio - pairs.rejected_logratio))


def simpo_loss(pairs: PairLogps, settings: LossSettings) -> torch.Tensor:
    """SimPO (Meng et al. 2024), reference-free and length-normalised:
    −log σ(β/|y_w|·log πθ(y_w) − β/|y_l|·log πθ(y_l) − γ)."""
    chosen = pairs.policy_chosen / pairs.chosen_tokens.clamp(min=1)
    rejected = pairs.policy_rejected / pairs.rejected_tokens.clamp(min=1)
    return -F.logsigmoid(settings.simpo_beta * (chosen - rejected) - settings.simpo_gamma)


def ipo_loss(pairs: PairLogps, settings: LossSettings) -> torch.Tensor:
    """IPO (Azar et al. 2023): (h − 1/(2τ))², h = Δ_w − Δ_l over summed log-probs, τ = β."""
    margin = pairs.chosen_logratio - pairs.rejected_logratio
    return (margin - 1.0 / (2.0 * settings.beta)) ** 2


def ropo_loss(pairs: PairLogps, settings: LossSettings) -> torch.Tensor:
    """ROPO (Liang et al. 2024), the form the Genius authors compare against: a DPO term plus the
    bounded, noise-tolerant term σ(−β·h): γ·(−log σ(β·h)) + α·σ(−β·h), h = Δ_w − Δ_l."""
    margin = settings.beta * (pairs.chosen_logratio - pairs.rejected_logratio)
    return settings.ropo_gamma * -F.logsigmoid(margin) + settings.ropo_alpha * torch.sigmoid(-margin)


def sft_loss(pairs: PairLogps, settings: LossSettings) -> torch.Tensor:
    """Supervised fine-tuning on the chosen side only: negative log-likelihood per token of
    T_w. Returned per pair (summed NLL scaled by the batch's chosen token total), so that the
    trainer's mean over pairs equals the token-level mean of the batch."""
    total_tokens = pairs.chosen_tokens.sum().clamp(min=1)
    return -pairs.policy_chosen * len(pairs.policy_chosen) / total_tokens


LossFunction = Callable[[PairLogps, LossSettings], torch.Tensor]

#: The losses `foresight genius train --loss` offers, by name.
LOSSES: dict[str, LossFunction] = {
    "aco": aco_loss,
    "aco-released": aco_released_loss,
    "dpo": dpo_loss,
    "simpo": simpo_loss,
    "ipo": ipo_loss,
    "ropo": ropo_loss,
    "sft": sft_loss,
}

#: Losses that read the advantage columns of the pairs file.
NEEDS_ADVANTAGES = frozenset({"aco", "aco-released"})

#: Losses that compare against a reference model (the others need no reference forward pass).
NEEDS_REFERENCE = frozenset({"aco", "aco-released", "dpo", "ipo", "ropo"})


def training_loss(name: str, pairs: PairLogps, settings: LossSettings) -> torch.Tensor:
    """The per-pair loss `name`, plus `settings.nll_weight` times the chosen side's per-token
    negative log-likelihood (RPO's regulariser, Pang et al. 2024). DPO-family losses can lower
    the chosen trajectory's likelihood along with the rejected one's (likelihood displacement);
    on a small model that undoes what it could do before, and the NLL term holds it up."""
    loss = LOSSES[name](pairs, settings)
    return loss + settings.nll_weight * sft_loss(pairs, settings) if settings.nll_weight else loss
