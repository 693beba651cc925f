"""Run the `foresight` command line inside a test and read what a run wrote."""

from __future__ import annotations

import json
from pathlib import Path

from foresight.cli import main


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `foresight ARGS`; argparse's usage errors included."""
    try:
        code = main(list(args))
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def read_records(run_dir: Path) -> list[dict]:
    """The records.jsonl of a strategy's run directory."""
    return [json.loads(line) for line in (run_dir / "records.jsonl").read_text().splitlines()]
