"""Alignment: how many foresight paths agree with a candidate's (SPEC §1 step 4).

Texts are represented as TF-IDF vectors (`method="tfidf"`) or as the paper's SBERT sentence
embeddings (`method="embedding"`, see `foresight.strategies.embeddings`) and grouped by k-means; a
candidate's alignment is the size of its cluster over the number of paths. Degenerate inputs
are part of the algorithm, not errors: with no more distinct texts than clusters, each distinct
text is its own cluster; texts without any word (empty ones) are alike and share one.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)

def cluster_texts(texts: Sequence[str], num_clusters: int, method: str = "tfidf", seed: int = 0) -> list[int]:
    """Cluster label per text. Texts with the same representation always share a label.

    When there are no more distinct representations than clusters (identical texts, texts
    without any word such as all-empty ones, a single text), each distinct representation is
    its own cluster and k-means is not run.
    """
    vectors = _embed(texts, method)
    distinct, labels = np.unique(vectors, axis=0, return_inverse=True)
    if len(distinct) <= num_clusters:
        log.debug("%d distinct paths for %d clusters: one cluster per distinct path", len(distinct), num_clusters)
        return _first_seen_order(labels.ravel().tolist())
    from sklearn.cluster import KMeans

    kmeans = KMeans(n_clusters=num_clusters, n_init=10, random_state=seed)
    return _first_seen_order(kmeans.fit_predict(vectors).tolist())


def _first_seen_order(labels: list[int]) -> list[int]:
    """Renumber labels 0, 1, 2... in order of first appearance (stable traces across runs)."""
    order: dict[int, int] = {}
    return [order.setdefault(label, len(order)) for label in labels]


def alignment_scores(labels: Sequence[int]) -> list[float]:
    """Size of each item's cluster divided by the number of items."""
    sizes = Counter(labels)
    return [sizes[label] / len(labels) for label in labels]


def largest_cluster_share(labels: Sequence[int]) -> float:
    """Fraction of items in the most populated cluster."""
    return max(Counter(labels).values()) / len(labels)


def _embed(texts: Sequence[str], method: str) -> np.ndarray:
    if method == "tfidf":
        from sklearn.feature_extraction.text import TfidfVectorizer

        # Numbers carry the meaning of arithmetic paths: keep one-character tokens.
        vectorizer = TfidfVectorizer(token_pattern=r"(?u)\b\w+\b")
        try:
            return vectorizer.fit_transform(texts).toarray()
        except ValueError:  # no text has any word (e.g. all empty): they are all alike
            return np.zeros((len(texts), 1))
    if method == "embedding":
        from foresight.strategies.embeddings import sentence_embeddings

        return sentence_embeddings(texts)
    raise ValueError(f"unknown clustering method '{method}'; choose: tfidf, embedding")
