"""`foresight genius ...`: the Genius self-training commands.

    foresight genius sample --queries 1000 --out runs/genius/sample
    foresight genius pairs runs/genius/sample --out runs/genius/pairs.jsonl
    foresight genius train --pairs runs/genius/pairs.jsonl --loss aco --out models/genius-aco
    foresight genius run --model arith --out runs/genius-arith
    foresight genius run --task countdown --model countdown --no-foresight-losses aco
    foresight genius report runs/genius-arith
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from typing import Any

from foresight.errors import ConfigError
from foresight.genius.losses import LOSSES
from foresight.genius.pairs import PAIR_VALUES
from foresight.options import Option, add_options, add_seed_flag, collect_options, config_from_args
from foresight.ranges import AT_LEAST_1


def resampling_options() -> dict[str, Option]:
    """The flags of foresight re-sampling (`genius sample`, `genius run`)."""
    from foresight.genius.resampling import ResamplingConfig

    return collect_options({"resampling": ResamplingConfig})


def training_options() -> dict[str, Option]:
    """The optimisation flags of `genius train` and `genius run`."""
    from foresight.genius.train import TrainingSettings

    return collect_options({"training": TrainingSettings})


def lora_options() -> dict[str, Option]:
    from foresight.genius.train import LoraSettings

    return collect_options({"lora": LoraSettings})


def run_options() -> dict[str, Option]:
    """The flags of `genius run`'s own settings (sizes, losses, seed)."""
    from foresight.genius.loop import GeniusRunConfig

    return collect_options({"run": GeniusRunConfig})


def add_genius_parser(commands: argparse._SubParsersAction) -> None:
    genius = commands.add_parser("genius", help="Genius: self-training from unlabeled queries (sample, pairs, train, run)")
    actions = genius.add_subparsers(dest="genius_command", required=True, parser_class=type(genius))

    sample = actions.add_parser("sample", help="foresight re-sampling over unlabeled queries (resumable)")
    add_options(sample, query_options(), name_owners=False)
    _add_queries_file(sample)
    sample.add_argument("--out", required=True, help="run directory for the trajectories")
    _add_engine_options(sample)
    add_seed_flag(sample, "every random choice")
    add_options(sample.add_argument_group("re-sampling"), resampling_options(), name_owners=False)

    pairs = actions.add_parser("pairs", help="step-level preference pairs from a sample directory")
    pairs.add_argument("sample_dir", help="directory written by `foresight genius sample`")
    pairs.add_argument("--out", required=True, help="pairs JSONL to write (TRL preference format + advantages)")
    pairs.add_argument("--rejected", choices=("foresight", "uniform"), default="foresight",
                       help="negative drawn from softmax(f/tau) without the chosen (paper, default) or uniformly (released script)")
    pairs.add_argument("--value", choices=PAIR_VALUES, default="foresight",
                       help="rank a step's candidates by the foresight value f and its advantage (Genius, default) "
                            "or by the step's own mean log-prob (the no-foresight ablation)")
    add_seed_flag(pairs, "the negatives' draws")

    train = actions.add_parser("train", help="train on preference pairs (TRL DPOTrainer with the Genius losses)")
    train.add_argument("--pairs", required=True, help="pairs JSONL from `foresight genius pairs`")
    train.add_argument("--out", required=True, help="directory for the trained checkpoint")
    train.add_argument("--model", default="arith", help="embedded name, checkpoint directory or .gguf file")
    train.add_argument("--loss", choices=tuple(LOSSES), default="aco", help="preference loss (default aco)")
    add_options(train.add_argument_group("training"), training_options(), name_owners=False)
    add_options(train.add_argument_group("LoRA"), lora_options(), name_owners=False)
    train.add_argument("--grad-accum", type=AT_LEAST_1.flag(), default=1, help="gradient accumulation steps (default 1)")
    train.add_argument("--max-length", type=AT_LEAST_1.flag(), default=1024, help="truncate prompt+response to this many tokens (default 1024)")
    add_seed_flag(train, "data order and initialisation")
    train.add_argument("--threads", type=AT_LEAST_1.flag(), default=None, help="CPU threads for torch (default: torch's choice)")

    run = actions.add_parser("run", help="the whole loop on a task: sample, pairs, train each loss, evaluate before/after")
    run.add_argument("--out", default=None, help="output directory (default runs/genius-<task>-<model>)")
    add_options(run, run_options(), name_owners=False)
    _add_queries_file(run)
    add_options(run.add_argument_group("training"), training_options(), name_owners=False)
    _add_engine_options(run)
    add_options(run.add_argument_group("re-sampling"), resampling_options(), name_owners=False)


    report = actions.add_parser("report", help="the table of a `genius run` directory: accuracy, pair statistics, wall time per model")
    report.add_argument("run_dir", help="a `genius run` output directory")


def query_options() -> dict[str, Option]:
    """`genius run`'s --task and --queries, which `genius sample` takes too."""
    return {dest: option for dest, option in run_options().items() if dest in ("task", "queries")}


def _add_queries_file(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--queries-file", default=None, metavar="FILE",
                        help="JSONL of unlabeled queries (field: question; no answer) instead of --queries N generated ones")


def _add_engine_options(parser: argparse.ArgumentParser) -> None:
    """The shared model/engine flags (`--model`, `--server URL`, ...) plus progress."""
    from foresight.engine.select import add_engine_arguments

    add_engine_arguments(parser)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run_genius_command(args: argparse.Namespace) -> int:
    if args.genius_command == "train" and args.threads is not None:  # the others set it with their engine
        from foresight.engine.select import check_threads

        check_threads(args.threads)
        import torch

        torch.set_num_threads(args.threads)
    if args.genius_command in ("train", "run") and importlib.util.find_spec("trl") is None:
        raise ConfigError("Genius training needs TRL and PEFT; install them with: pip install 'foresight[train]'")
    handler = {"sample": _sample, "pairs": _pairs, "train": _train, "run": _run, "report": _report}[args.genius_command]
    return handler(args)


def _resampling_config(args: argparse.Namespace):
    from foresight.genius.resampling import ResamplingConfig

    return config_from_args("resampling", ResamplingConfig, args, resampling_options())


def _training_settings(args: argparse.Namespace):
    from foresight.genius.train import TrainingSettings

    return config_from_args("training", TrainingSettings, args, training_options())


def _sample(args: argparse.Namespace) -> int:
    from foresight.engine.select import check_engine_args, engine_from_args
    from foresight.genius.loop import GeniusRunConfig
    from foresight.genius.queries import load_queries
    from foresight.genius.sample import sample
    from foresight.tasks import load_task

    check_engine_args(args)
    run = config_from_args("run", GeniusRunConfig, args, query_options())
    if args.queries is not None and args.queries_file is not None:
        raise ConfigError("give unlabeled queries either as --queries-file FILE.jsonl or as --queries N (problems of --task), not both")
    if args.queries_file is not None:
        posed_as = load_task(args.task) if args.task is not None else None
        queries = load_queries(path=args.queries_file, posed_as=posed_as)
    else:
        queries = load_queries(task=run.task, count=run.queries)
    config = _resampling_config(args)
    summary = sample(queries, config, engine_from_args(args), Path(args.out), seed=args.seed,
                     batch_size=args.batch_size, progress=not args.no_progress)
    print(json.dumps(summary, indent=2))
    return 0


def _pairs(args: argparse.Namespace) -> int:
    from foresight.genius.pairs import build_pairs, read_sampling_run, write_pairs

    identity, records = read_sampling_run(Path(args.sample_dir))
    temperature = identity.get("resampling", {}).get("exploration_temperature")
    if not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ConfigError(f"{args.sample_dir}/config.json: no positive resampling.exploration_temperature")
    rows, stats = build_pairs(records, temperature, seed=args.seed, rejected=args.rejected, value=args.value)
    write_pairs(rows, Path(args.out))
    print(json.dumps(stats.as_dict(), indent=2))
    print(f"pairs: {args.out}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from accelerate import PartialState

    from foresight.genius.train import LoraSettings, train_on_pairs

    config = _training_settings(args).trainer_config(
        Path(args.out) / "trainer", args.loss, args.seed,
        gradient_accumulation_steps=args.grad_accum, max_length=args.max_length,
    )
    lora = config_from_args("lora", LoraSettings, args, lora_options())
    report = train_on_pairs(Path(args.pairs), args.model, Path(args.out), config, lora)
    if not PartialState().is_main_process:  # one report from a multi-process run
        return 0
    print(json.dumps({k: v for k, v in report.items() if k not in ("log_history", "loss_curve")}, indent=2))
    print(f"model: {args.out}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from foresight.engine.select import check_engine_args, engine_from_args
    from foresight.genius.loop import GeniusRunConfig, run_genius
    from foresight.tasks import STREAM_TASKS

    check_engine_args(args)
    if args.server:
        raise ConfigError("genius run trains local checkpoints and evaluates them in-process; with a server, "
                          "run `genius sample --server URL`, then `genius pairs` and `genius train`")
    config = config_from_args("run", GeniusRunConfig, args, run_options(), training=_training_settings(args))
    if args.queries_file is None and config.task not in STREAM_TASKS:
        raise ConfigError(f"task '{config.task}' generates no problems ({', '.join(STREAM_TASKS)} do); "
                          "give unlabeled queries with --queries-file FILE.jsonl")
    if config.eval_split != "heldout" and config.task not in STREAM_TASKS:
        raise ConfigError(f"--eval-split {config.eval_split}: task '{config.task}' has no generated validation problems "
                          f"({', '.join(STREAM_TASKS)} do); score on its held-out set (--eval-split heldout)")
    out = Path(args.out) if args.out else Path("runs") / f"genius-{config.task}-{Path(args.model).name or args.model}"
    summary = run_genius(args.model, out, config, _resampling_config(args), engine_batch_size=args.batch_size,
                         progress=not args.no_progress, queries_file=args.queries_file,
                         make_engine=lambda spec: engine_from_args(argparse.Namespace(**(vars(args) | {"model": spec}))))
    _print_run_table(summary)
    print(f"summary: {out}/summary.json")
    return 0


def _report(args: argparse.Namespace) -> int:
    path = Path(args.run_dir) / "summary.json"
    if not path.is_file():
        raise ConfigError(f"{args.run_dir}: no summary.json; is it a finished `foresight genius run` directory?")
    try:
        summary = json.loads(path.read_text())
        _print_run_table(summary)
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: not a genius run summary ({type(exc).__name__}: {exc})") from None
    return 0


def _print_run_table(summary: dict[str, Any]) -> None:
    """Per model: held-out accuracy and its change from the base model, the pairs it was trained
    on, training loss, steps and wall time; then per pair ranking, how often chosen and rejected
    trajectories were right (labels read for this report only)."""
    from rich.console import Console
    from rich.table import Table

    base = summary["results"]["base"]["eval"]["accuracy"]
    task = summary.get("task", "arith")
    split = summary.get("scored_on", {}).get("split", "heldout")
    table = Table(title=f"Genius on {summary['model']}, task {task}: greedy CoT on {split} problems")
    for column in ("model", "pairs", "accuracy", "vs base", "train loss", "steps", "train s"):
        table.add_column(column, justify="left" if column in ("model", "pairs") else "right")
    for name, result in summary["results"].items():
        training = result.get("training", {})
        accuracy = result["eval"]["accuracy"]
        table.add_row(
            name, result.get("pairs", "-" if name == "base" else "foresight"), f"{100 * accuracy:.1f}%",
            f"{100 * (accuracy - base):+.1f}" if name != "base" else "-",
            f"{training['train_loss']:.4f}" if training else "-",
            str(training.get("steps", "-")), f"{training['wall_time_s']:.0f}" if training else "-",
        )
    Console(width=120).print(table)
    rankings = {f"pairs by {value}": pairs for value, pairs in summary.get("pair_variants", {"foresight": summary["pairs"]}).items()}
    rankings |= {f"pairs of {name} (sampled by {entry['from']})": entry["pairs"] for name, entry in summary.get("rounds", {}).items()}
    for label, pairs in rankings.items():
        right = (f"; chosen right {100 * pairs['chosen_correct_share']:.1f}%, rejected right "
                 f"{100 * pairs['rejected_correct_share']:.1f}%" if "chosen_correct_share" in pairs else "")
        print(f"{label}: {pairs['pairs']} from {pairs['queries']} queries{right}; "
              f"calibration region {100 * pairs['calibration_share']:.1f}%")
