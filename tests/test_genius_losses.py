"""Genius's losses on hand-made log-probs (SPEC §3 steps 4-5)."""

import math

import pytest
import torch

from foresight.genius.losses import (
    LOSSES, LossSettings, PairLogps, aco_loss, aco_released_loss, aco_weight, dpo_loss, ipo_loss, released_aco_weight,
    ropo_loss, sft_loss, simpo_loss, training_loss,
)


def pairs(advantage_chosen, advantage_rejected, seed=0, size=None):
    size = size or len(advantage_chosen)
    generator = torch.Generator().manual_seed(seed)
    draw = lambda: -torch.rand(size, generator=generator, dtype=torch.float64) * 40  # noqa: E731
    return PairLogps(
        policy_chosen=draw(), policy_rejected=draw(), reference_chosen=draw(), reference_rejected=draw(),
        chosen_tokens=torch.tensor([20.0] * size, dtype=torch.float64),
        rejected_tokens=torch.tensor([25.0] * size, dtype=torch.float64),
        advantage_chosen=torch.tensor(advantage_chosen, dtype=torch.float64),
        advantage_rejected=torch.tensor(advantage_rejected, dtype=torch.float64),
    )


def test_aco_equals_dpo_as_alpha_goes_to_infinity():
    batch = pairs([0.1, -0.3, 0.0, 0.2], [0.5, -0.1, -0.2, 0.9])  # mostly calibration region
    huge_alpha = LossSettings(alpha=1e12)
    assert torch.allclose(aco_loss(batch, huge_alpha), dpo_loss(batch, huge_alpha), atol=1e-9)
    assert not torch.allclose(aco_loss(batch, LossSettings()), dpo_loss(batch, LossSettings()))


def test_aco_equals_dpo_when_every_rejected_advantage_is_at_most_the_chosen_one():
    batch = pairs([0.4, 0.0, -0.2, 0.3], [0.1, 0.0, -0.9, 0.3])
    settings = LossSettings(alpha=0.05)
    assert torch.equal(aco_loss(batch, settings), dpo_loss(batch, settings))


def test_weight_is_below_one_exactly_in_the_calibration_region():
    chosen = torch.tensor([0.0, 0.0, 0.0, 0.0, 0.0])
    rejected = torch.tensor([-1.0, -1e-6, 0.0, 1e-6, 2.0])
    weight = aco_weight(chosen, rejected, alpha=1.0)
    assert weight[:3].tolist() == [1.0, 1.0, 1.0]
    assert (weight[3:] < 1).all()
    assert weight[4].item() == pytest.approx(math.exp(-2.0))


def test_released_variant_uses_max_instead_of_min():
    chosen = torch.tensor([0.0, 0.0, 0.0])
    rejected = torch.tensor([-1.0, 0.0, 2.0])
    released = released_aco_weight(chosen, rejected, alpha=1.0)
    assert released.tolist() == pytest.approx([math.e, 1.0, 1.0])  # up-weights in the normal region
    assert aco_weight(chosen, rejected, 1.0).tolist() == pytest.approx([1.0, 1.0, math.exp(-2.0)])
    normal_region = pairs([0.5], [0.0])
    assert not torch.allclose(aco_released_loss(normal_region, LossSettings()), aco_loss(normal_region, LossSettings()))
    calibration_region = pairs([0.0], [3.0])
    assert torch.allclose(aco_released_loss(calibration_region, LossSettings()), dpo_loss(calibration_region, LossSettings()))


def test_aco_needs_the_advantages():
    batch = pairs([0.0], [0.0])
    stripped = PairLogps(batch.policy_chosen, batch.policy_rejected, batch.reference_chosen,
                         batch.reference_rejected, batch.chosen_tokens, batch.rejected_tokens)
    with pytest.raises(ValueError, match="advantage"):
        aco_loss(stripped, LossSettings())
    dpo_loss(stripped, LossSettings())  # DPO does not


def test_dpo_simpo_ipo_ropo_sft_on_hand_numbers():
    batch = PairLogps(
        policy_chosen=torch.tensor([-10.0]), policy_rejected=torch.tensor([-30.0]),
        reference_chosen=torch.tensor([-12.0]), reference_rejected=torch.tensor([-27.0]),
        chosen_tokens=torch.tensor([10.0]), rejected_tokens=torch.tensor([20.0]),
    )
    settings = LossSettings(beta=0.5, simpo_beta=2.0, simpo_gamma=1.0, ropo_alpha=0.2, ropo_gamma=0.1)
    h = (-10 + 12) - (-30 + 27)  # Δ_w − Δ_l = 5
    sigmoid = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    assert dpo_loss(batch, settings).item() == pytest.approx(-math.log(sigmoid(0.5 * h)))
    assert simpo_loss(batch, settings).item() == pytest.approx(-math.log(sigmoid(2.0 * (-1.0 - -1.5) - 1.0)))
    assert ipo_loss(batch, settings).item() == pytest.approx((h - 1 / (2 * 0.5)) ** 2)
    assert ropo_loss(batch, settings).item() == pytest.approx(
        0.1 * -math.log(sigmoid(0.5 * h)) + 0.2 * sigmoid(-0.5 * h), rel=1e-6)
    assert sft_loss(batch, settings).mean().item() == pytest.approx(10.0 / 10.0)
    with_nll = LossSettings(beta=0.5, nll_weight=0.3)
    assert training_loss("dpo", batch, with_nll).item() == pytest.approx(-math.log(sigmoid(0.5 * h)) + 0.3 * 1.0)
    assert training_loss("dpo", batch, settings).item() == pytest.approx(dpo_loss(batch, settings).item())


def test_sft_is_the_token_mean_over_the_batch():
    batch = PairLogps(
        policy_chosen=torch.tensor([-10.0, -30.0]), policy_rejected=torch.zeros(2),
        reference_chosen=torch.zeros(2), reference_rejected=torch.zeros(2),
        chosen_tokens=torch.tensor([10.0, 30.0]), rejected_tokens=torch.ones(2),
    )
    assert sft_loss(batch, LossSettings()).mean().item() == pytest.approx(40.0 / 40.0)


def test_every_loss_is_differentiable_and_finite():
    batch = pairs([0.1, 0.2], [0.3, -0.4])
    policy = batch.policy_chosen.clone().requires_grad_(True)
    batch = PairLogps(policy, batch.policy_rejected, batch.reference_chosen, batch.reference_rejected,
                      batch.chosen_tokens, batch.rejected_tokens, batch.advantage_chosen, batch.advantage_rejected)
    for name, loss in LOSSES.items():
        value = loss(batch, LossSettings()).mean()
        (gradient,) = torch.autograd.grad(value, policy)
        assert torch.isfinite(value) and torch.isfinite(gradient).all(), name
