"""Models shipped with foresight.

``arith/`` holds the embedded default model: a tiny LLaMA-architecture model trained on CPU
for the :mod:`foresight.tasks.arith` task by :mod:`foresight.models.train_arith` (see its
``TRAINING.md``). It loads offline with ``AutoModelForCausalLM.from_pretrained`` and
``AutoTokenizer.from_pretrained`` on :func:`arith_model_dir`. ``countdown/`` is the same kind
of model for :mod:`foresight.tasks.countdown`, trained by :mod:`foresight.models.train_countdown`.
"""

from __future__ import annotations

from pathlib import Path


def arith_model_dir() -> Path:
    """Directory of the embedded arith model (config, safetensors weights, tokenizer)."""
    return Path(__file__).resolve().parent / "arith"


def countdown_model_dir() -> Path:
    """Directory of the embedded countdown model (config, safetensors weights, tokenizer)."""
    return Path(__file__).resolve().parent / "countdown"
