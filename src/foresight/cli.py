"""The `foresight` command line.

    foresight run --task arith --strategy cot,sc,phi --limit 100
    foresight show runs/arith-arith/phi --id arith-1-0
    foresight report runs/gsm8k-smollm2 runs/arc-smollm2 --out runs/report
    foresight sweep --task gsm8k --model smollm2 --strategy phi --beams 1,2 --rollouts 1,2,4 --limit 10
    foresight paper phi-table --tasks gsm8k,math500 --model smollm2 --limit 50
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
from foresight.tasks import ANSWER_FORMAT_NAMES

class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error on one line."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"foresight: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="foresight", description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.add_argument("--version", action="version", version=f"foresight {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("run", help="run strategies over a task and print accuracy and compute")
    _add_run_options(run, sweep=False)
    sweep = commands.add_parser("sweep", help="run one strategy over a grid of settings and plot accuracy against FLOPs")
    _add_run_options(sweep, sweep=True)

    report = commands.add_parser("report", help="tables (Markdown, CSV) and accuracy-vs-FLOPs plots of run directories")
    report.add_argument("run_dirs", nargs="+", help="run directories, or folders of them (a run's --out)")
    report.add_argument("--out", default="runs/report", help="where report.md, report.csv and the plots go (default runs/report)")

    show = commands.add_parser("show", help="print one question's search from a run directory as a tree")
    show.add_argument("run_dir", help="a strategy's run directory, e.g. runs/arith-arith/phi")
    show.add_argument("--id", required=True, help="question id, e.g. arith-1-0")

    paper = commands.add_parser("paper", help="the papers' experiments: phi-table runs Table 1 of the phi-Decoding paper")
    experiments = paper.add_subparsers(dest="experiment", required=True, parser_class=_Parser)
    _add_table_options(experiments.add_parser(
        "phi-table", help="every method of the paper's Table 1 (plus sc and wsc) on every task, one engine, resumable"))

    from foresight.genius.cli import add_genius_parser

    add_genius_parser(commands)

    from foresight.serve.cli import add_serve_parser

    add_serve_parser(commands)

    # The training scripts parse their own flags (--out, --steps, --minutes, --help, ...): main()
    # hands them every argument after the command.
    commands.add_parser("build-arith-model", add_help=False,
                        help="train the embedded arith model (see models/arith/TRAINING.md; --help for its flags)")
    build_model = commands.add_parser("build-model", add_help=False,
                                      help="train an embedded model: countdown (see models/countdown/TRAINING.md)")
    build_model.add_argument("model", choices=("countdown",), help="which embedded model to train")
    return parser


#: Commands whose flags their training script parses.
TRAINING_COMMANDS = ("build-arith-model", "build-model")


def _version() -> str:
    from foresight import __version__

    return __version__


def _add_run_options(parser: argparse.ArgumentParser, sweep: bool) -> None:
    """The flags of `run`, or of `sweep`: one strategy, and each strategy option a comma list."""
    from foresight.options import add_options
    from foresight.strategies import STRATEGIES, strategy_options
    from foresight.tasks import TASK_NAMES

    parser.add_argument("--task", default=None, help=f"task name: {', '.join(TASK_NAMES)} (default: arith, or jsonl with --data)")
    parser.add_argument("--data", default=None, help="JSONL file of your own questions (fields: question, answer), or a benchmark's file in its format")
    parser.add_argument("--few-shot", default=None, help="JSONL file of exemplars (fields: question, solution) shown before each question")
    parser.add_argument("--answer-format", choices=ANSWER_FORMAT_NAMES, default=None,
                        help="with --data FILE.jsonl: how answers are read and scored (default: inferred from the golds)")
    described = "; ".join(f"{k} ({v.description})" for k, v in STRATEGIES.items())
    if sweep:
        parser.add_argument("--strategy", default="phi", help=f"the one strategy to sweep (default phi): {described}")
    else:
        parser.add_argument("--strategy", default="cot", help=f"comma-separated strategies (default cot): {described}")
    options = parser.add_argument_group(
        "strategy options (each applies to the strategies named; "
        + ("give comma-separated values: the sweep runs every combination)" if sweep else "unset: the strategy's default)"))
    add_options(options, strategy_options(), as_lists=sweep)
    _add_run_flags(parser, out_help=(
        "output directory, one run per grid point (default runs/sweep-<task>-<model>-<strategy>)" if sweep else
        "output directory; each strategy writes OUT/<strategy> (default runs/<task>-<model>)"))


def _add_table_options(parser: argparse.ArgumentParser) -> None:
    """The flags of `paper phi-table`: tasks and methods as comma lists, then run's flags."""
    from foresight.options import add_options
    from foresight.eval.phi_table import TABLE_METHODS
    from foresight.strategies import strategy_options

    parser.add_argument("--tasks", default="arith", help="comma-separated tasks, the table's columns (default arith)")
    parser.add_argument("--benchmark-seed", action="store_true",
                        help="generated tasks (arith, countdown): the 300 problems of the benchmark seed, which the README's "
                             "tables use, instead of the held-out set (--limit still bounds what is computed)")
    parser.add_argument("--methods", default=",".join(TABLE_METHODS),
                        help=f"comma-separated strategies, the table's rows (default {','.join(TABLE_METHODS)})")
    add_options(parser.add_argument_group("strategy options (each applies to the methods that take it)"), strategy_options())
    _add_run_flags(parser, out_help="output directory: OUT/<task>/<method> per run, phi_table.md and the plots (default runs/phi-table-<model>)")


def _add_run_flags(parser: argparse.ArgumentParser, out_help: str) -> None:
    """The flags every command that runs strategies over questions shares."""
    from foresight.engine.select import add_engine_arguments
    from foresight.options import add_seed_flag
    from foresight.ranges import AT_LEAST_1

    parser.add_argument("--limit", type=AT_LEAST_1.flag(), default=None,
                        help="compute only the first N questions (the summary still covers every record in the directory)")
    add_seed_flag(parser, "every random choice")
    parser.add_argument("--out", default=None, help=out_help)
    add_engine_arguments(parser)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--json", action="store_true", help="print the runs' summaries as one JSON object instead of the table")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and args.command not in TRAINING_COMMANDS:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
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
        if args.command == "paper":
            return _phi_table(args)
        if args.command == "show":
            from foresight.eval.show import show

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

            return train_main(rest)
        if args.command == "build-model":
            from foresight.models.train_countdown import main as train_countdown_main

            return train_countdown_main(rest)
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
    from foresight.eval.evaluate import evaluate
    from foresight.eval.runs import ensure_writable

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
    from foresight.eval.report import print_summary_table

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
    from foresight.eval.report import markdown_table, write_report
    from foresight.eval.runs import ensure_writable
    from foresight.options import given
    from foresight.strategies import strategy_options
    from foresight.eval.sweep import budget_grid, run_sweep

    check_engine_args(args)
    if "," in args.strategy:
        raise ConfigError(f"sweep runs one strategy, got '{args.strategy}'")
    options = strategy_options()
    lists = {name: value if isinstance(value, list) else [value] for name, value in given(args, options).items()}
    grid = budget_grid(lists)
    configs = [(point, _strategies(argparse.Namespace(**(vars(args) | point)))[0]) for point in grid]
    task = _task(args)
    out = Path(args.out) if args.out else Path("runs") / f"sweep-{task.name}-{_slug(args.model)}-{args.strategy}"
    ensure_writable(out)
    runs = run_sweep(task, configs, engine_from_args(args), out, seed=args.seed, limit=args.limit,
                     batch_size=args.batch_size, progress=not args.no_progress)
    _print_tables(runs, args.json, markdown_table(runs), write_report(runs, out))
    return 0


def _phi_table(args: argparse.Namespace) -> int:
    from foresight.engine.select import check_engine_args, engine_from_args
    from foresight.eval.phi_table import BENCHMARK_PROBLEMS, run_table, table_markdown, write_table
    from foresight.eval.runs import ensure_writable
    from foresight.tasks import load_task, stream_task

    check_engine_args(args)
    names = [name.strip() for name in args.tasks.split(",") if name.strip()]
    if not names or len(set(names)) < len(names):
        raise ConfigError(f"--tasks needs distinct task names, got '{args.tasks}'")
    if args.benchmark_seed:
        tasks = [stream_task(name, "benchmark", BENCHMARK_PROBLEMS) for name in names]
    else:
        tasks = [load_task(name) for name in names]
    methods = _strategies(argparse.Namespace(**(vars(args) | {"strategy": args.methods})))
    out = Path(args.out) if args.out else Path("runs") / f"phi-table-{_slug(args.model)}"
    ensure_writable(out)
    runs = run_table(tasks, methods, engine_from_args(args), out, seed=args.seed, limit=args.limit,
                     batch_size=args.batch_size, progress=not args.no_progress)
    _print_tables(runs, args.json, table_markdown(runs), write_table(runs, out))
    return 0


def _print_tables(runs: list, as_json: bool, table: str, written: list[Path]) -> None:
    """stdout: the runs as one JSON object (--json) or the Markdown table; stderr: the files written."""
    print(json.dumps({"runs": runs}) if as_json else table, end="\n" if as_json else "")
    print("wrote: " + ", ".join(str(p) for p in written), file=sys.stderr)


def _report(args: argparse.Namespace) -> int:
    from foresight.eval.report import markdown_table, write_report
    from foresight.eval.runs import find_run_dirs, load_run

    runs = [load_run(path) for path in find_run_dirs([Path(p) for p in args.run_dirs])]
    print(markdown_table(runs), end="")
    print("wrote: " + ", ".join(str(p) for p in write_report(runs, Path(args.out))))
    return 0


def _strategies(args: argparse.Namespace) -> list:
    """The strategy configs `--strategy` names, with the strategy options given (each to the
    strategies that have it), refused on one line before any model loads."""
    from foresight.options import flag_error, given
    from foresight.strategies import STRATEGIES, make_strategy, strategy_options

    names = [name.strip() for name in args.strategy.split(",") if name.strip()]
    if not names:
        raise ConfigError("--strategy needs at least one strategy name")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"--strategy names {repeated[0]} twice; each strategy runs once per command")
    options = strategy_options()
    values = given(args, options)
    unknown = [name for name in names if name not in STRATEGIES]
    if unknown:
        raise ConfigError(f"unknown strategy '{unknown[0]}'; choose from: {', '.join(STRATEGIES)}")
    for option in values:
        if not any(option in STRATEGIES[name].options for name in names):
            raise ConfigError(f"{options[option].flag} does not apply to strategy {args.strategy}")
    try:
        return [make_strategy(name, **{k: v for k, v in values.items() if k in STRATEGIES[name].options}) for name in names]
    except OptionValueError as exc:
        raise flag_error(exc, options) from None


def _slug(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(model).name or model)


if __name__ == "__main__":
    raise SystemExit(main())
