"""The `foresight` command line.

    foresight run --task arith --strategy cot,sc,phi --limit 100
    foresight show runs/arith-arith/phi --id arith-1-0
    foresight report runs/gsm8k-smollm2 runs/arc-smollm2 --out runs/report
    foresight sweep --task gsm8k --model smollm2 --strategy phi --beams 1,2 --rollouts 1,2,4 --limit 10
    foresight genius run --model arith
    foresight serve --model arith --port 8000
    foresight build-arith-model --out DIR
    foresight build-model countdown --out DIR

Every bad input ends in one line `foresight: error: ...` and exit code 2, found before any
model loads where it can be; records already written stay on disk. Results go to stdout,
progress and messages to stderr; other libraries' warnings and progress bars only with -v.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import warnings
from pathlib import Path
from typing import Sequence

from foresight.errors import ConfigError, ForesightError, OptionValueError
from foresight.strategies.phi import FINAL_CHOICES, IDENTICAL_STOPS
from foresight.tasks import ANSWER_FORMAT_NAMES

#: Strategy options on the command line: (flag, config field, argparse keywords). Each applies
#: to the strategies whose config has that field; the defaults live in the config classes.
STRATEGY_OPTIONS: tuple[tuple[str, str, dict], ...] = (
    ("--n", "n", dict(type=int, help="samples per question for sc and bon (default 8)")),
    ("--temperature", "temperature", dict(type=float, help="sampling temperature for sc and bon (default 0.7)")),
    ("--top-p", "top_p", dict(type=float, help="nucleus sampling mass for sc and bon (default 1.0)")),
    ("--max-tokens", "max_tokens", dict(type=int, help="cap on generated tokens per completion (default 512)")),
    ("--preset", "preset", dict(choices=("paper", "released"), help="phi: the paper's settings (default) or the authors' released script's")),
    ("--beams", "beams", dict(type=int, help="phi, predictive: M, beams kept per step (default 4; predictive 1)")),
    ("--rollouts", "rollouts", dict(type=int, help="phi, predictive: N, candidate steps per beam (default 4; predictive 8)")),
    ("--clusters", "clusters", dict(type=int, help="phi: K, clusters of foresight paths (default 3)")),
    ("--depth-threshold", "depth_threshold", dict(type=float, help="phi: delta, stop once the largest cluster holds this share (default 0.7)")),
    ("--width-k", "width_k", dict(type=float, help="phi: in-width pruning keeps scores >= mean - k*std (default 1)")),
    ("--min-steps", "min_steps", dict(type=int, help="phi: T_min, no in-depth pruning before this step (default 4)")),
    ("--max-steps", "max_steps", dict(type=int, help="phi, predictive: T_max, cap on steps (default 8)")),
    ("--advantage-temperature", "advantage_temperature", dict(type=float, help="phi: tau1 in softmax(A/tau1) (default 0.6; released 0.1)")),
    ("--alignment-temperature", "alignment_temperature", dict(type=float, help="phi: tau2 in softmax(C/tau2) (default 0.6; released 1)")),
    ("--advantage-filter", "advantage_filter", dict(action=argparse.BooleanOptionalAction, help="phi: choose steps and the final completion only among those with A > 0 and non-empty text, falling back to softmax(A/tau1) over all when too few qualify (default off; released on)")),
    ("--strict-depth-threshold", "strict_depth_threshold", dict(action=argparse.BooleanOptionalAction, help="phi: in-depth pruning needs the largest cluster's share > delta rather than >= delta (default off; released on)")),
    ("--identical-stop", "identical_stop", dict(choices=IDENTICAL_STOPS, help="phi: stop when all foresight texts are identical from T_min on (default), or the M selected steps from T_min+1 on (released)")),
    ("--final-choice", "final_choice", dict(choices=FINAL_CHOICES, help="phi: final completion by the joint rule (default), or sampled by softmax(A/tau1) inside the larger of 2 clusters (released)")),
    ("--clustering", "clustering", dict(choices=("tfidf", "embedding"), help="phi: path representation for k-means: tfidf (default) or embedding (all-MiniLM-L6-v2)")),
    ("--step-prefix", "step_prefix", dict(help="phi, predictive: text opening the assistant turn before the first step")),
    ("--no-foresight", "foresight", dict(action="store_const", const=False, help="phi ablation: value steps by their own score")),
    ("--no-cluster", "cluster", dict(action="store_const", const=False, help="phi ablation: select on advantage alone")),
    ("--no-width-pruning", "width_pruning", dict(action="store_const", const=False, help="phi ablation: keep every candidate")),
    ("--no-depth-pruning", "depth_pruning", dict(action="store_const", const=False, help="phi ablation: always run T_max steps")),
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error on one line."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"foresight: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from foresight.sweep import int_list

    parser = _Parser(prog="foresight", description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("run", help="run strategies over a task and print accuracy and compute")
    _add_run_options(run)

    # sweep takes every option of run, some redefined: its own copies (argparse's "resolve" strips
    # the replaced flags from the actions, which must not be run's)
    sweep = commands.add_parser("sweep", conflict_handler="resolve", help="run one strategy over a budget grid and plot accuracy against FLOPs")
    _add_run_options(sweep)
    sweep.add_argument("--strategy", default="phi", help="the one strategy to sweep (default phi)")
    for flag, field_name, text in (("--beams", "beams", "M values"), ("--rollouts", "rollouts", "N values"), ("--n", "n", "n values")):
        sweep.add_argument(flag, dest=field_name, type=int_list, default=None, help=f"comma-separated {text} of the grid")
    sweep.add_argument("--out", default=None, help="output directory, one run per grid point (default runs/sweep-<task>-<model>-<strategy>)")

    report = commands.add_parser("report", help="tables (Markdown, CSV) and accuracy-vs-FLOPs plots of run directories")
    report.add_argument("run_dirs", nargs="+", help="run directories, or folders of them (a run's --out)")
    report.add_argument("--out", default="runs/report", help="where report.md, report.csv and the plots go (default runs/report)")

    show = commands.add_parser("show", help="print one question's search from a run directory as a tree")
    show.add_argument("run_dir", help="a strategy's run directory, e.g. runs/arith-arith/phi")
    show.add_argument("--id", required=True, help="question id, e.g. arith-1-0")

    from foresight.genius.cli import add_genius_parser

    add_genius_parser(commands)

    from foresight.serve.cli import add_serve_parser

    add_serve_parser(commands)

    build = commands.add_parser("build-arith-model", help="train the embedded arith model (see models/arith/TRAINING.md)", add_help=False)
    build.add_argument("args", nargs=argparse.REMAINDER)
    build_model = commands.add_parser("build-model", help="train an embedded model: countdown (see models/countdown/TRAINING.md)", add_help=False)
    build_model.add_argument("model", choices=("countdown",), help="which embedded model to train")
    build_model.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    from foresight.engine.select import add_engine_arguments
    from foresight.ranges import AT_LEAST_1, SEED
    from foresight.strategies import STRATEGIES
    from foresight.tasks import TASK_NAMES

    parser.add_argument("--task", default=None, help=f"task name: {', '.join(TASK_NAMES)} (default: arith, or jsonl with --data)")
    parser.add_argument("--data", default=None, help="JSONL file of your own questions (fields: question, answer), or a benchmark's file in its format")
    parser.add_argument("--few-shot", default=None, help="JSONL file of exemplars (fields: question, solution) shown before each question")
    parser.add_argument("--answer-format", choices=ANSWER_FORMAT_NAMES, default=None,
                        help="with --data FILE.jsonl: how answers are read and scored (default: inferred from the golds)")
    parser.add_argument(
        "--strategy", default="cot",
        help="comma-separated strategies: " + "; ".join(f"{k} ({v.description})" for k, v in STRATEGIES.items()),
    )
    for flag, field_name, keywords in STRATEGY_OPTIONS:
        parser.add_argument(flag, dest=field_name, default=None, **keywords)
    parser.add_argument("--limit", type=AT_LEAST_1.flag(), default=None,
                        help="compute only the first N questions (the summary still covers every record in the directory)")
    parser.add_argument("--seed", type=SEED.flag(), default=0, help="seed of every random choice (default 0)")
    parser.add_argument("--out", default=None, help="output directory; each strategy writes OUT/<strategy> (default runs/<task>-<model>)")
    add_engine_arguments(parser)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--json", action="store_true", help="print the runs' summaries as one JSON object instead of the table")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        _quiet_libraries()
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "sweep":
            return _sweep(args)
        if args.command == "report":
            return _report(args)
        if args.command == "show":
            from foresight.show import show

            show(Path(args.run_dir), args.id)
            return 0
        if args.command == "genius":
            from foresight.genius.cli import run_genius_command

            return run_genius_command(args)
        if args.command == "serve":
            from foresight.serve.cli import run_serve_command

            return run_serve_command(args)
        if args.command == "build-arith-model":
            from foresight.models.train_arith import main as train_main

            return train_main(args.args)
        if args.command == "build-model":
            from foresight.models.train_countdown import main as train_countdown_main

            return train_countdown_main(args.args)
    except ForesightError as exc:
        print(f"foresight: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("foresight: interrupted; finished records are kept", file=sys.stderr)
        return 130
    return 2


def _quiet_libraries() -> None:
    """Silence what other libraries print unasked (transformers' loading bars and advice, Python
    warnings such as deprecation notices): set before they are imported, as they read it then."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
    warnings.simplefilter("ignore")


def _run(args: argparse.Namespace) -> int:
    from foresight.engine.select import check_engine_args, engine_from_args
    from foresight.evaluate import evaluate
    from foresight.runs import ensure_writable

    check_engine_args(args)
    task = _task(args)
    strategies = _strategies(args)
    out = Path(args.out) if args.out else Path("runs") / f"{task.name}-{_slug(args.model)}"
    ensure_writable(out)
    engine = engine_from_args(args)

    summaries = []
    for strategy in strategies:
        summaries.append(
            evaluate(task, strategy, engine, out / strategy.label, seed=args.seed,
                     limit=args.limit, batch_size=args.batch_size, progress=not args.no_progress)
        )
    _print_runs(summaries, args.json)
    print(f"records: {out}/<strategy>/records.jsonl", file=sys.stderr)
    return 0


def _print_runs(summaries: list, as_json: bool) -> None:
    """The results on stdout: the table, or with --json one JSON object {"runs": [...]}."""
    if as_json:
        print(json.dumps({"runs": summaries}))
        return
    from foresight.report import print_summary_table

    print_summary_table(summaries)


def _task(args: argparse.Namespace):
    from foresight.tasks import load_task

    for flag, value in (("--data", args.data), ("--few-shot", args.few_shot)):
        if value is not None and not value.strip():
            raise ConfigError(f"{flag} needs a file path, got an empty one")
    name = args.task if args.task is not None else "jsonl" if args.data else "arith"
    task = load_task(name, args.data, args.few_shot, args.answer_format)
    scored = getattr(task, "task", task)  # a few-shot task wraps the task whose answers it scores
    if getattr(scored, "answer_format_inferred", False):
        print(f"foresight: scoring the answers of {args.data} as {scored.answer_format_name} "
              "(inferred from its golds; --answer-format to choose)", file=sys.stderr)
    return task


def _sweep(args: argparse.Namespace) -> int:
    from foresight.engine.select import check_engine_args, engine_from_args
    from foresight.report import markdown_table, write_report
    from foresight.runs import ensure_writable
    from foresight.sweep import GRID_OPTIONS, budget_grid, run_sweep

    check_engine_args(args)
    if "," in args.strategy:
        raise ConfigError(f"sweep runs one strategy, got '{args.strategy}'")
    grid = budget_grid({name: getattr(args, name) for name in GRID_OPTIONS})
    configs = [(point, _strategies(argparse.Namespace(**(vars(args) | point)))[0]) for point in grid]
    task = _task(args)
    out = Path(args.out) if args.out else Path("runs") / f"sweep-{task.name}-{_slug(args.model)}-{args.strategy}"
    ensure_writable(out)
    runs = run_sweep(task, configs, engine_from_args(args), out, seed=args.seed, limit=args.limit,
                     batch_size=args.batch_size, progress=not args.no_progress)
    written = write_report(runs, out)
    print(json.dumps({"runs": runs}) if args.json else markdown_table(runs), end="\n" if args.json else "")
    print("wrote: " + ", ".join(str(p) for p in written), file=sys.stderr)
    return 0


def _report(args: argparse.Namespace) -> int:
    from foresight.report import markdown_table, write_report
    from foresight.runs import find_run_dirs, load_run

    runs = [load_run(path) for path in find_run_dirs([Path(p) for p in args.run_dirs])]
    print(markdown_table(runs), end="")
    print("wrote: " + ", ".join(str(p) for p in write_report(runs, Path(args.out))))
    return 0


def _strategies(args: argparse.Namespace) -> list:
    from foresight.strategies import STRATEGIES, make_strategy

    names = [name.strip() for name in args.strategy.split(",") if name.strip()]
    if not names:
        raise ConfigError("--strategy needs at least one strategy name")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"--strategy names {repeated[0]} twice; each strategy runs once per command")
    flags = {field_name: flag for flag, field_name, _ in STRATEGY_OPTIONS}
    given = {name: getattr(args, name) for name in flags if getattr(args, name) is not None}
    unknown = [name for name in names if name not in STRATEGIES]
    if unknown:
        raise ConfigError(f"unknown strategy '{unknown[0]}'; choose from: {', '.join(STRATEGIES)}")
    for option in given:
        if not any(option in STRATEGIES[name].options for name in names):
            raise ConfigError(f"{flags[option]} does not apply to strategy {args.strategy}")
    try:
        return [make_strategy(name, **{k: v for k, v in given.items() if k in STRATEGIES[name].options}) for name in names]
    except OptionValueError as exc:
        raise ConfigError(f"{flags.get(exc.option, exc.option)} must be {exc.allowed}, got {exc.value}") from None


def _slug(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(model).name or model)


if __name__ == "__main__":
    raise SystemExit(main())
