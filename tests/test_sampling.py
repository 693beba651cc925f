"""Keyed Gumbel sampling: exact distribution, batch invariance, greedy and nucleus rules."""

import torch

from foresight.engine.sampling import row_keys, sample_tokens, top_p_mask


def test_draws_follow_the_temperature_scaled_distribution():
    logits = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    rows = 20000
    keys = row_keys(torch.arange(rows), torch.zeros(rows, dtype=torch.long))
    tokens = sample_tokens(logits.repeat(rows, 1), keys, step=0,
                           temperature=torch.ones(rows), top_p=torch.ones(rows))
    frequencies = torch.bincount(tokens, minlength=4).float() / rows
    assert torch.allclose(frequencies, torch.tensor([0.5, 0.3, 0.15, 0.05]), atol=0.015)

    sharpened = sample_tokens(logits.repeat(rows, 1), keys, step=0,
                              temperature=torch.full((rows,), 0.5), top_p=torch.ones(rows))
    expected = torch.softmax(logits / 0.5, dim=0)
    assert torch.allclose(torch.bincount(sharpened, minlength=4).float() / rows, expected, atol=0.015)


def test_a_row_draws_the_same_token_whatever_shares_its_batch():
    torch.manual_seed(0)
    logits = torch.randn(6, 50)
    keys = row_keys(torch.tensor([11, 12, 13, 14, 15, 16]), torch.tensor([0, 1, 2, 0, 1, 2]))
    together = sample_tokens(logits, keys, 3, torch.ones(6), torch.ones(6))
    alone = [sample_tokens(logits[i:i + 1], keys[i:i + 1], 3, torch.ones(1), torch.ones(1)).item() for i in range(6)]
    assert together.tolist() == alone
    other_step = sample_tokens(logits, keys, 4, torch.ones(6), torch.ones(6))
    other_seed = sample_tokens(logits, row_keys(torch.tensor([21, 22, 23, 24, 25, 26]), torch.zeros(6)), 3,
                               torch.ones(6), torch.ones(6))
    assert other_step.tolist() != together.tolist() or other_seed.tolist() != together.tolist()


def test_zero_temperature_is_greedy_and_mixes_with_sampled_rows():
    logits = torch.tensor([[0.0, 3.0, 1.0], [0.0, 3.0, 1.0]])
    keys = row_keys(torch.tensor([1, 2]), torch.tensor([0, 0]))
    for step in range(20):
        tokens = sample_tokens(logits, keys, step, torch.tensor([0.0, 1.0]), torch.ones(2))
        assert tokens[0].item() == 1


def test_top_p_keeps_the_smallest_nucleus():
    logits = torch.log(torch.tensor([[0.6, 0.25, 0.1, 0.05]]))
    assert top_p_mask(logits, torch.tensor([0.5])).tolist() == [[False, True, True, True]]
    assert top_p_mask(logits, torch.tensor([0.8])).tolist() == [[False, False, True, True]]
    assert top_p_mask(logits, torch.tensor([1.0])).tolist() == [[False, False, False, False]]
    rows = 2000
    keys = row_keys(torch.arange(rows), torch.zeros(rows, dtype=torch.long))
    tokens = sample_tokens(logits.repeat(rows, 1), keys, 0, torch.ones(rows), torch.full((rows,), 0.8))
    assert set(tokens.tolist()) == {0, 1}
