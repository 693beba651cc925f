"""`foresight genius run`: the whole Genius loop on one model, with a before/after evaluation.

1. foresight re-sampling over unlabeled `arith` queries (answers withheld),
2. step-level preference pairs,
3. for each loss asked (default ACO and DPO, for the comparison): train a copy of the base model,
4. greedy chain of thought on held-out labeled problems: the base model and every trained one.

Labels enter only in two places, both after training and only for reporting: the held-out
evaluation, and the pair diagnostics (how often the chosen trajectory's answer is right vs the
rejected one's), which explain a gain or its absence from the data.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from foresight.errors import OptionValueError, RunDirError
from foresight.genius.losses import LOSSES
from foresight.genius.pairs import build_pairs, read_sampling_run, write_pairs
from foresight.genius.queries import load_queries
from foresight.genius.resampling import ResamplingConfig
from foresight.genius.train import LoraSettings, TrainingSettings, train_on_pairs
from foresight.options import check_ranges, option
from foresight.ranges import AT_LEAST_1, SEED


@dataclass(frozen=True)
class GeniusRunConfig:
    """The loop's sizes, the losses to compare, and how each model is trained."""

    queries: int = option(1000, "unlabeled arith queries to self-train on", range=AT_LEAST_1)
    eval_questions: int = option(500, "held-out labeled problems for the before/after evaluation", range=AT_LEAST_1)
    losses: tuple[str, ...] = option(("aco", "dpo"), "comma-separated losses to train and compare",
                                     choices=tuple(LOSSES), noun="loss")
    training: TrainingSettings = field(default_factory=TrainingSettings)
    seed: int = option(0, "seed of sampling, pairs, training and evaluation", range=SEED)

    def __post_init__(self) -> None:
        check_ranges(self)
        unknown = [name for name in self.losses if name not in LOSSES]
        if unknown or not self.losses:
            raise OptionValueError("losses", f"one or more of {', '.join(LOSSES)}", ",".join(self.losses))


def run_genius(model_spec: str, out: Path, config: GeniusRunConfig, resampling: ResamplingConfig,
               *, engine_batch_size: int, progress: bool, make_engine: Callable[[str], Any],
               lora: LoraSettings = LoraSettings()) -> dict[str, Any]:
    """Run the loop into `out`; every stage resumes from what `out` already holds."""
    from foresight.eval.evaluate import evaluate
    from foresight.genius.sample import sample
    from foresight.strategies import make_strategy
    from foresight.tasks.arith_task import ArithTask

    started = time.perf_counter()
    base_engine = make_engine(model_spec)
    queries = load_queries(arith_count=config.queries)
    sampling = sample(queries, resampling, base_engine, out / "sample", seed=config.seed,
                      batch_size=engine_batch_size, progress=progress)
    _, records = read_sampling_run(out / "sample")
    rows, stats = build_pairs(records, resampling.exploration_temperature, seed=config.seed)
    pairs_path = out / "pairs.jsonl"
    write_pairs(rows, pairs_path)

    held_out = ArithTask(size=config.eval_questions)
    cot = make_strategy("cot")

    def evaluate_model(engine: Any, name: str) -> dict[str, Any]:
        return evaluate(held_out, cot, engine, out / "eval" / name, seed=config.seed,
                        batch_size=engine_batch_size, progress=progress)

    results: dict[str, Any] = {"base": {"eval": evaluate_model(base_engine, "base")}}
    for loss in config.losses:
        model_dir = out / "models" / loss
        training = _finished_training(model_dir, config, loss, lora) or train_on_pairs(
            pairs_path, model_spec, model_dir,
            config.training.trainer_config(out / "trainer" / loss, loss, config.seed, disable_tqdm=True), lora,
        )
        results[loss] = {"eval": evaluate_model(make_engine(str(model_dir)), loss),
                         "training": {k: v for k, v in training.items() if k != "log_history"}}
    summary = {
        "model": model_spec,
        "config": asdict(config),
        "sampling": sampling,
        "pairs": stats.as_dict() | _pair_correctness(rows, config.queries),
        "results": results,
        "wall_time_s": time.perf_counter() - started,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _finished_training(model_dir: Path, config: GeniusRunConfig, loss: str, lora: LoraSettings) -> dict[str, Any] | None:
    """The report of a training already finished in `model_dir` with these settings (a rerun
    resumes); a model trained with other settings is refused rather than silently reused."""
    report_path = model_dir / "genius_training.json"
    if not report_path.is_file():
        return None
    report = json.loads(report_path.read_text())
    wanted = asdict(config.training) | {"loss": loss, "seed": config.seed, "lora_rank": lora.rank}
    changed = sorted(key for key, value in wanted.items() if report.get(key) != value)
    if changed:
        raise RunDirError(f"{model_dir} holds a model trained with other settings (differs in: {', '.join(changed)}); "
                          "use another --out to keep both")
    return report


def _pair_correctness(rows: list[dict[str, Any]], query_count: int) -> dict[str, Any]:
    """Diagnostics only, after the fact: share of pairs whose chosen / rejected trajectory
    reaches the right answer of its (withheld) arith problem."""
    from foresight.tasks.arith import UNLABELED_SEED
    from foresight.tasks.arith_task import ARITH_HELDOUT_STEPS, ArithTask

    task = ArithTask(seed=UNLABELED_SEED, size=query_count, steps=ARITH_HELDOUT_STEPS)
    gold = {q.id: q.gold for q in task.questions()}

    def right(row: dict[str, Any], side: str) -> bool:
        query_id = row["id"].rsplit("/", 1)[0]
        return task.is_correct(task.extract_answer(row[side][0]["content"]), gold.get(query_id))

    chosen = [right(r, "chosen") for r in rows]
    rejected = [right(r, "rejected") for r in rows]
    count = len(rows) or 1
    return {
        "chosen_correct_share": sum(chosen) / count,
        "rejected_correct_share": sum(rejected) / count,
        "chosen_right_rejected_wrong": sum(c and not r for c, r in zip(chosen, rejected)) / count,
        "chosen_wrong_rejected_right": sum(r and not c for c, r in zip(chosen, rejected)) / count,
    }
