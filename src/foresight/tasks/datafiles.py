"""Where benchmark files live, and reading their rows with errors that name the file and row.

The benchmark test sets are not part of the package: they sit in a shared data folder beside
the repository (`../shared/data/benchmarks` from the repository root). `FORESIGHT_DATA_DIR`
points elsewhere; a `--data PATH` given for one task always wins over both.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from foresight.errors import DataError

DATA_DIR_VARIABLE = "FORESIGHT_DATA_DIR"
_REPOSITORY_ROOT = Path(__file__).resolve().parents[3]
SHARED_DATA_DIR = _REPOSITORY_ROOT.parent / "shared" / "data" / "benchmarks"


def benchmark_dir() -> Path:
    """Where the benchmark files are looked for: `$FORESIGHT_DATA_DIR`, else the shared folder."""
    configured = os.environ.get(DATA_DIR_VARIABLE)
    return Path(configured) if configured else SHARED_DATA_DIR


def benchmark_file(file_name: str, task_name: str) -> Path:
    """The default file of a benchmark: `$FORESIGHT_DATA_DIR/file_name` when the variable is
    set, else the shared folder beside the repository; a DataError naming the path otherwise."""
    path = benchmark_dir() / file_name
    if not path.is_file():
        origin = f"${DATA_DIR_VARIABLE}" if os.environ.get(DATA_DIR_VARIABLE) else "the shared data folder"
        raise DataError(
            f"task '{task_name}': {path} not found (in {origin}); "
            f"set {DATA_DIR_VARIABLE} to the folder holding {file_name}, or pass --data PATH"
        )
    return path


@dataclass(frozen=True)
class Row:
    """One object of a data file and where it stands, for error messages."""

    where: str  # "file:line" for JSONL, "file item N" (0-based) for a JSON array
    position: str  # "lineN" or "itemN": the row's name where the data gives it no id
    fields: dict[str, Any]


def read_rows(path: Path, items: str = "questions") -> list[Row]:
    """The objects of a file: a JSON array when the file is a `.json` that opens with `[`
    (the shared benchmark files), JSON Lines otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a .json or .jsonl file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read: {exc}") from exc
    if path.suffix == ".json" and text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
        located = [(f"{path} item {index}", f"item{index}", item) for index, item in enumerate(items)]
    else:
        located = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                located.append((f"{path}:{number}", f"line{number}", json.loads(line)))
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
    rows = []
    for where, position, item in located:
        if not isinstance(item, dict):
            raise DataError(f"{where}: expected a JSON object, got {type(item).__name__}")
        rows.append(Row(where, position, item))
    if not rows:
        raise DataError(f"{path}: contains no {items}")
    return rows


def file_identity(path: Path) -> str:
    """A data file as a run's identity names it: its path and the hash of its content, so that
    a run directory is never resumed on a file that has changed since."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return f"{path.resolve()} (sha256 {digest})"


def require_answer(row: Row, name: str) -> str:
    """The row's gold answer `name` as text; a DataError naming the row when it is missing,
    null or empty (such a question could only ever be scored wrong)."""
    require(row, name)
    value = row.fields[name]
    if value is None:
        raise DataError(f"{row.where}: field '{name}' is null; every question needs a gold answer")
    gold = str(value).strip()
    if not gold:
        raise DataError(f"{row.where}: field '{name}' is empty; every question needs a gold answer")
    return gold


def require(row: Row, *names: str) -> None:
    """Raise a DataError naming the row when a field is missing."""
    for name in names:
        if name not in row.fields:
            raise DataError(f"{row.where}: missing field '{name}'")
