"""`foresight genius train`: fit a model on preference pairs and save a normal checkpoint.

The saved directory (weights, tokenizer with its chat template, generation config) is what
every other command takes as `--model DIR`. With LoRA the adapter is merged into the weights
before saving, so the result needs no PEFT to load. Multi-device users run the same command
under `accelerate launch -m foresight.cli genius train ...` (or with a DeepSpeed config passed
through `accelerate`); TRL handles the distribution.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from foresight.genius.losses import NEEDS_ADVANTAGES
from foresight.genius.pairs import read_pairs
from foresight.options import check_ranges, option
from foresight.ranges import AT_LEAST_0, AT_LEAST_1, FRACTION, NON_NEGATIVE, POSITIVE


@dataclass(frozen=True)
class TrainingSettings:
    """The optimisation settings both `genius train` and `genius run` take. Defaults suit the
    embedded tiny model on CPU (the paper's lr 5e-7 / batch 128 are for an 8B model and would
    not move a 0.5M one)."""

    learning_rate: float = option(1e-5, "peak learning rate (for the tiny model; the paper used 5e-7 on 8B)",
                                  range=POSITIVE)
    beta: float = option(0.1, "beta of the DPO-family losses", range=POSITIVE)
    alpha: float = option(1.0, "ACO's alpha", range=POSITIVE)
    epochs: float = option(1.0, "passes over the pairs", range=POSITIVE)
    batch_size: int = option(32, "pairs per device per optimizer step", flag="train-batch-size", range=AT_LEAST_1)
    warmup: float = option(0.1, "learning-rate warm-up as a share of steps, in [0, 1)", range=FRACTION)
    nll_weight: float = option(0.0, "weight of a per-token NLL term on the chosen trajectory added to the loss (RPO); "
                               "0 = the loss alone, as in the paper", range=NON_NEGATIVE)

    def __post_init__(self) -> None:
        check_ranges(self)

    def trainer_config(self, output_dir: Path, loss: str, seed: int, **extra: Any):
        """The `GeniusConfig` (TRL arguments) for one training with these settings."""
        from foresight.genius.trainer import GeniusConfig

        return GeniusConfig(
            output_dir=str(output_dir), loss=loss, beta=self.beta, alpha=self.alpha,
            learning_rate=self.learning_rate, num_train_epochs=self.epochs,
            per_device_train_batch_size=self.batch_size, warmup_steps=self.warmup, nll_weight=self.nll_weight, seed=seed,
            logging_steps=1, save_strategy="no", report_to=[], **extra,
        )


@dataclass(frozen=True)
class LoraSettings:
    """LoRA adapter settings (PEFT); rank 0 means full fine-tuning."""

    rank: int = option(0, "LoRA rank; 0 = full fine-tuning", flag="lora-rank", range=AT_LEAST_0)
    alpha: int = option(16, "LoRA alpha", flag="lora-alpha", range=AT_LEAST_1)
    dropout: float = option(0.0, "LoRA dropout, in [0, 1)", flag="lora-dropout", range=FRACTION)
    target_modules: str = option("all-linear", "modules LoRA adapts (PEFT's target_modules)",
                                 flag="lora-target-modules")

    def __post_init__(self) -> None:
        check_ranges(self)


def train_on_pairs(pairs_path: Path, model_spec: str, out_dir: Path, config: Any,
                   lora: LoraSettings = LoraSettings()) -> dict[str, Any]:
    """Train `model_spec` on the pairs in `pairs_path` with `config` (a `GeniusConfig`); the
    trained model is saved to `out_dir`. Returns the loss curve and timing. Under `accelerate
    launch` every process runs this; the main process alone writes the model and the report."""
    from foresight.engine.loading import load_model_and_tokenizer, resolve_model
    from foresight.genius.trainer import GeniusTrainer

    rows = read_pairs(pairs_path, need_advantages=config.loss in NEEDS_ADVANTAGES)
    model, tokenizer = load_model_and_tokenizer(resolve_model(model_spec))
    peft_config = None
    if lora.rank > 0:
        from peft import LoraConfig

        peft_config = LoraConfig(r=lora.rank, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                                 target_modules=lora.target_modules, task_type="CAUSAL_LM")
    dataset = _dataset_on_disk(rows, Path(config.output_dir) / "pairs", config)
    started = time.perf_counter()
    trainer = GeniusTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer,
                            peft_config=peft_config)
    result = trainer.train()
    if peft_config is not None:
        trainer.model = trainer.model.merge_and_unload()
    trainer.save_model(str(out_dir))  # weights and tokenizer, from the main process (gathered under ZeRO-3)
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    report = {
        "pairs": len(rows),
        "loss": config.loss,
        "beta": config.beta,
        "alpha": config.alpha,
        "learning_rate": config.learning_rate,
        "epochs": config.num_train_epochs,
        "batch_size": config.per_device_train_batch_size,
        "warmup": config.warmup_steps,
        "nll_weight": config.nll_weight,
        "seed": config.seed,
        "steps": trainer.state.global_step,
        "processes": trainer.accelerator.num_processes,
        "lora_rank": lora.rank,
        "train_loss": result.training_loss,
        "loss_curve": losses,
        "log_history": trainer.state.log_history,
        "wall_time_s": time.perf_counter() - started,
    }
    if trainer.is_world_process_zero():
        (out_dir / "genius_training.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def _dataset_on_disk(rows: list[dict[str, Any]], directory: Path, config: Any):
    """The pairs as an Arrow dataset saved under `directory` and loaded from there.

    TRL caches the reference log-probs next to a dataset's files; an in-memory dataset has them in a
    per-process temporary folder, where the other processes of an `accelerate launch` run cannot find
    the file the main process wrote. The main process writes the dataset afresh, then all load it.
    """
    from datasets import Dataset, load_from_disk

    columns = ["prompt", "chosen", "rejected", "advantage_chosen", "advantage_rejected"]
    with config.main_process_first(desc="pairs dataset"):
        if config.process_index == 0:
            shutil.rmtree(directory, ignore_errors=True)
            Dataset.from_list([{k: row[k] for k in columns if k in row} for row in rows]).save_to_disk(str(directory))
    return load_from_disk(str(directory))
