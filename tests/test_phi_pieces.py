"""SPEC §1 pieces on constructed inputs: pruning, joint weights, clustering fallbacks."""

import numpy as np
import pytest

from foresight.strategies.clustering import alignment_scores, cluster_texts, largest_cluster_share
from foresight.strategies.selection import joint_weights, sample_without_replacement, softmax, width_prune


def test_width_pruning_keeps_scores_above_mean_minus_k_sigma():
    scores = [-0.1, -0.2, -0.15, -3.0, -0.12, -0.18]
    kept, topped_up = width_prune(scores, keep_at_least=2, k_sigma=1.0, rng=np.random.default_rng(0))
    assert kept == [0, 1, 2, 4, 5] and topped_up == []


def test_width_pruning_tops_up_to_m_from_the_pruned_by_softmax_weights():
    scores = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -5.0, -5.2, -9.0]
    counts = {7: 0, 8: 0, 9: 0}
    for seed in range(400):
        kept, topped_up = width_prune(scores, keep_at_least=9, k_sigma=0.5, rng=np.random.default_rng(seed))
        assert len(kept) == 9 and len(topped_up) == 2 and set(range(7)) <= set(kept)
        for i in topped_up:
            counts[i] += 1
    # softmax(s / 0.1) puts almost all mass on -5.0 and -5.2; -9.0 is drawn only when forced
    assert counts[7] == 400 and counts[8] == 400 and counts[9] == 0


def test_width_pruning_with_equal_scores_keeps_all():
    kept, topped_up = width_prune([-1.0] * 5, 4, 1.0, np.random.default_rng(0))
    assert kept == [0, 1, 2, 3, 4] and not topped_up


def test_joint_weights_use_both_temperatures():
    advantages, alignments = [0.2, 0.0, -0.3], [0.5, 0.25, 0.25]
    weights = joint_weights(advantages, alignments, 0.6, 0.6)
    expected = softmax(np.array(advantages) / 0.6) + softmax(np.array(alignments) / 0.6)
    assert np.allclose(weights, expected / expected.sum()) and np.isclose(weights.sum(), 1)
    released = joint_weights(advantages, alignments, 0.1, 1.0)
    assert np.allclose(released, (softmax(np.array(advantages) / 0.1) + softmax(alignments)) / 2)
    assert not np.allclose(weights, released)


def test_sampling_without_replacement_is_distinct_and_seeded():
    weights = [0.5, 0.3, 0.2, 0.0]
    draws = sample_without_replacement(weights, 4, np.random.default_rng(3))
    assert sorted(draws) == [0, 1, 2, 3] and draws[-1] == 3
    assert draws == sample_without_replacement(weights, 4, np.random.default_rng(3))
    assert len(sample_without_replacement(weights, 9, np.random.default_rng(3))) == 4


def test_clustering_groups_similar_paths():
    texts = ["12 + 30 = 42\nThe answer is 42.", "12 + 30 = 42\nThe answer is 42.", "30 + 12 = 42\nThe answer is 42.",
             "5 * 3 = 15\nThe answer is 15.", "5 * 3 = 15\nThe answer is 15.", "7 - 2 = 5\nThe answer is 99."]
    labels = cluster_texts(texts, 3, seed=0)
    assert labels[0] == labels[1] == labels[2] and labels[3] == labels[4]
    assert len(set(labels)) == 3
    assert alignment_scores(labels)[0] == 0.5 and largest_cluster_share(labels) == 0.5


def test_clustering_fallbacks_need_no_exception_path():
    assert cluster_texts(["a b", "a b", "c d"], 3) == [0, 0, 1]  # fewer distinct texts than clusters
    assert cluster_texts(["", "", ""], 3) == [0, 0, 0]  # all empty
    assert cluster_texts(["only"], 3) == [0]  # a single candidate
    assert cluster_texts(["", " ", "\n", "x y", "x y"], 3) == [0, 0, 0, 1, 1]  # wordless texts are alike
    assert largest_cluster_share(cluster_texts(["same"] * 4, 3)) == 1.0


def test_unknown_clustering_method():
    with pytest.raises(ValueError, match="unknown clustering method"):
        cluster_texts(["a", "b", "c", "d"], 2, method="nope")
