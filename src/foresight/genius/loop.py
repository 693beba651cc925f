"""`foresight genius run`: the whole Genius loop on one model, with a before/after evaluation.

1. foresight re-sampling over unlabeled queries (a task's generated problems with the answers
   withheld, or a file of questions),
2. step-level preference pairs, ranked by the foresight value; for the ablation, also pairs
   ranked by each step's own log-prob ("no foresight"),
3. for each loss asked (default ACO and DPO, for the comparison; SimPO, IPO, ROPO and SFT on the
   chosen side too): train a copy of the base model on those pairs,
4. greedy chain of thought on the task's held-out labelled problems (or, while choosing
   settings, on its validation problems): the base model and every trained one,
5. with `--rounds R`, rounds 2..R repeat 1-4 for each loss from the model the previous round
   trained with it: re-sampling the same queries with that model, new pairs, training on from it.

Every model lives in the one run directory (`models/<loss>`, `models/<loss>-no-foresight`,
`models/<loss>-round<r>`), and every stage resumes from what is there. Labels enter only in two
places, both after training and only for reporting: the evaluation, and the pair diagnostics (how
often the chosen trajectory's answer is right vs the rejected one's), which explain a gain or its
absence.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from foresight.errors import OptionValueError, RunDirError
from foresight.genius.losses import LOSSES
from foresight.genius.pairs import build_pairs, read_sampling_run, write_pairs
from foresight.genius.queries import QuerySet, load_queries, withheld
from foresight.genius.resampling import ResamplingConfig
from foresight.genius.train import LoraSettings, TrainingSettings, train_on_pairs
from foresight.options import check_ranges, option
from foresight.ranges import AT_LEAST_1, SEED
from foresight.tasks import TASK_NAMES
from foresight.tasks.base import Task

#: Pairs file and model-name suffix per way of ranking a step's candidates.
PAIR_VARIANTS = {"foresight": ("pairs.jsonl", ""), "step": ("pairs-no-foresight.jsonl", "-no-foresight")}
#: Where `genius run` may take the labelled problems that score its models from.
EVAL_SPLITS = ("heldout", "validation")


@dataclass(frozen=True)
class GeniusRunConfig:
    """The loop's task and sizes, the losses to compare, and how each model is trained."""

    task: str = option("arith", "task whose held-out problems score the models; its generated problems, answers "
                       "withheld, are the unlabeled queries unless --queries-file is given", choices=TASK_NAMES, noun="task")
    queries: int = option(1000, "unlabeled queries to self-train on (problems of the task's own unlabeled seed)", range=AT_LEAST_1)
    eval_questions: int = option(500, "held-out labelled problems for the before/after evaluation (at most the task's set)",
                                 range=AT_LEAST_1)
    losses: tuple[str, ...] = option(("aco", "dpo"), "comma-separated losses to train and compare",
                                     choices=tuple(LOSSES), noun="loss")
    no_foresight_losses: tuple[str, ...] = option((), "losses also trained on pairs ranked by each step's own log-prob "
                                                  "instead of the foresight value (the paper's w/o-foresight ablation)",
                                                  choices=tuple(LOSSES), noun="loss")
    rounds: int = option(1, "rounds of self-training; round r > 1 re-samples the queries with the model round r-1 "
                         "trained with each loss and trains on from it", range=AT_LEAST_1)
    eval_split: str = option("heldout", "labelled problems that score the models: the task's held-out set, or its "
                             "validation seed for choosing settings without looking at the held-out set",
                             choices=EVAL_SPLITS, noun="split")
    training: TrainingSettings = field(default_factory=TrainingSettings)
    seed: int = option(0, "seed of sampling, pairs, training and evaluation", range=SEED)

    def __post_init__(self) -> None:
        check_ranges(self)
        unknown = [name for name in self.losses + self.no_foresight_losses if name not in LOSSES]
        if unknown or not self.losses:
            raise OptionValueError("losses", f"one or more of {', '.join(LOSSES)}", ",".join(self.losses + self.no_foresight_losses))


def run_genius(model_spec: str, out: Path, config: GeniusRunConfig, resampling: ResamplingConfig,
               *, engine_batch_size: int, progress: bool, make_engine: Callable[[str], Any],
               queries_file: str | None = None, lora: LoraSettings = LoraSettings()) -> dict[str, Any]:
    """Run the loop into `out`; every stage resumes from what `out` already holds."""
    from foresight.eval.evaluate import evaluate
    from foresight.genius.sample import sample
    from foresight.strategies import make_strategy
    from foresight.tasks import load_task, stream_task, unlabeled_stream

    started = time.perf_counter()
    held_out = load_task(config.task)
    scored_on = held_out if config.eval_split == "heldout" else stream_task(config.task, "validation", config.eval_questions)
    labelled = None if queries_file else unlabeled_stream(config.task, config.queries)
    queries = load_queries(path=queries_file, posed_as=held_out) if queries_file else withheld(labelled)
    queries, overlapping = _without_questions_of(queries, held_out, scored_on)
    cot = make_strategy("cot")
    engine_of = functools.lru_cache(maxsize=1)(make_engine)  # the base model samples and is scored on one load
    eval_dir = out / ("eval" if config.eval_split == "heldout" else f"eval-{config.eval_split}")

    def sample_with(model: str, sample_dir: Path, seed: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        summary = sample(queries, resampling, engine_of(model), sample_dir, seed=seed,
                         batch_size=engine_batch_size, progress=progress)
        return summary, read_sampling_run(sample_dir)[1]

    def pairs_from(records: list[dict[str, Any]], value: str, path: Path) -> dict[str, Any]:
        rows, stats = build_pairs(records, resampling.exploration_temperature, seed=config.seed, value=value)
        write_pairs(rows, path)
        return stats.as_dict() | _pair_correctness(rows, labelled)

    def evaluate_model(model: str, name: str) -> dict[str, Any]:
        return evaluate(scored_on, cot, engine_of(model), eval_dir / name, seed=config.seed,
                        limit=config.eval_questions, batch_size=engine_batch_size, progress=progress)

    def train_and_evaluate(pairs_path: Path, start_from: str, name: str, loss: str) -> dict[str, Any]:
        model_dir = out / "models" / name
        training = _finished_training(model_dir, config, loss, lora) or train_on_pairs(
            pairs_path, start_from, model_dir,
            config.training.trainer_config(out / "trainer" / name, loss, config.seed, disable_tqdm=True), lora,
        )
        return {"eval": evaluate_model(str(model_dir), name),
                "training": {k: v for k, v in training.items() if k != "log_history"}}

    sampling, records = sample_with(model_spec, out / "sample", config.seed)
    results: dict[str, Any] = {"base": {"eval": evaluate_model(model_spec, "base")}}
    pair_report: dict[str, Any] = {}
    for value, losses in (("foresight", config.losses), ("step", config.no_foresight_losses)):
        if not losses:
            continue
        file_name, suffix = PAIR_VARIANTS[value]
        pair_report[value] = pairs_from(records, value, out / file_name)
        for loss in losses:
            results[loss + suffix] = {"pairs": value} | train_and_evaluate(out / file_name, model_spec, loss + suffix, loss)
    rounds: dict[str, Any] = {}
    for round_number in range(2, config.rounds + 1):
        for loss in config.losses:
            name, previous = round_model_name(loss, round_number), round_model_name(loss, round_number - 1)
            round_dir = out / "rounds" / str(round_number) / loss
            round_sampling, round_records = sample_with(str(out / "models" / previous), round_dir / "sample",
                                                        config.seed + round_number - 1)
            rounds[name] = {"round": round_number, "from": previous, "sampling": round_sampling,
                            "pairs": pairs_from(round_records, "foresight", round_dir / "pairs.jsonl")}
            results[name] = {"pairs": f"foresight, round {round_number}"} | train_and_evaluate(
                round_dir / "pairs.jsonl", str(out / "models" / previous), name, loss)
    summary = {
        "model": model_spec,
        "task": config.task,
        "scored_on": {"split": config.eval_split, "source": scored_on.name},
        "queries": {"source": queries.source, "count": len(queries.questions), "dropped_as_scored": overlapping},
        "config": asdict(config),
        "sampling": sampling,
        "pairs": pair_report["foresight"],
        "pair_variants": pair_report,
        "rounds": rounds,
        "results": results,
        "wall_time_s": time.perf_counter() - started,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def round_model_name(loss: str, round_number: int) -> str:
    """The model a round trains with `loss`: `aco` in round 1, `aco-round2` after it."""
    return loss if round_number == 1 else f"{loss}-round{round_number}"


def _without_questions_of(queries: QuerySet, *scoring: Task) -> tuple[QuerySet, int]:
    """The queries minus any whose text is a question of a scoring set (small generated spaces,
    such as 3-number countdown problems, repeat across seeds): self-training never sees a
    question it is scored on."""
    test_texts = {q.text for task in scoring for q in task.questions()}
    kept = [q for q in queries.questions if q.text not in test_texts]
    return QuerySet(queries.source, kept, queries.messages), len(queries.questions) - len(kept)


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


def _pair_correctness(rows: list[dict[str, Any]], labelled: Task | None) -> dict[str, Any]:
    """Diagnostics only, after the fact: share of pairs whose chosen / rejected trajectory is right
    for its (withheld) problem, judged by the task's own checker; nothing for a file of queries."""
    if labelled is None:
        return {}
    gold = {q.id: q.gold for q in labelled.questions()}

    def right(row: dict[str, Any], side: str) -> bool:
        query_id = row["id"].rsplit("/", 1)[0]
        return labelled.is_correct(labelled.extract_answer(row[side][0]["content"]), gold.get(query_id))

    chosen = [right(r, "chosen") for r in rows]
    rejected = [right(r, "rejected") for r in rows]
    count = len(rows) or 1
    return {
        "chosen_correct_share": sum(chosen) / count,
        "rejected_correct_share": sum(rejected) / count,
        "chosen_right_rejected_wrong": sum(c and not r for c, r in zip(chosen, rejected)) / count,
        "chosen_wrong_rejected_right": sum(r and not c for c, r in zip(chosen, rejected)) / count,
    }
