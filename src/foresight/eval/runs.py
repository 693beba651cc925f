"""Run directories: crash-safe, resumable records of one (task, strategy, model, seed) run.

Layout of a run directory:
  config.json             what was run; a rerun with a different config is refused
  records.jsonl           one JSON line per finished question, appended and fsynced as it ends
  records.rejected.jsonl  lines of records.jsonl that held no record of this run, with the reason
  summary.json            accuracy and compute totals over every record, rewritten at the end of a session
  .lock                   locked (flock) by the one process writing the directory; holds its pid

Every reader (run, report, show, genius, diagnostics) goes through `read_records`, so all of
them agree on what a directory holds. A line that is not a record (not JSON, no id, a missing
field, a second record of the same question) is named with its line number: the writer moves
it to records.rejected.jsonl with the reason and keeps every good record after it; read-only
commands skip it. A last line cut short by a crash is the only line repaired: it is moved
aside and its question reruns. A record stamped with another config's hash is never summed:
it is an error naming the line. A question whose record is present is skipped on rerun, so a
killed run loses only the questions in flight.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Callable

from foresight.errors import RunDirError

log = logging.getLogger(__name__)

#: What a record must hold for its run to be summed or shown: field -> accepted types.
EVALUATION_FIELDS: dict[str, tuple[type, ...]] = {
    "config_hash": (str,), "question": (str,), "prediction": (str, type(None)), "correct": (bool,),
    "response": (str,), "generated_tokens": (int,), "prompt_tokens": (int,), "prefill_tokens": (int,),
    "paper_flops": (int, float), "inference_flops": (int, float), "trace": (dict,),
}

#: A record check returns why a parsed record is unusable, or None when it is fine.
RecordCheck = Callable[[dict[str, Any]], "str | None"]


def config_hash(identity: dict[str, Any]) -> str:
    """Short stable hash of the settings that decide a run's results."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]


def ensure_writable(path: Path) -> None:
    """Create `path` if needed and prove a file can be written there, or raise RunDirError."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise RunDirError(f"output directory {path} is not writable: {exc.strerror or exc}") from None


def check_fields(record: dict[str, Any], fields: dict[str, tuple[type, ...]]) -> str | None:
    """Why `record` lacks one of `fields` or holds a value of another type (None if it does not);
    a bool is not accepted where a number is asked for."""
    for name, kinds in fields.items():
        if name not in record:
            return f"missing field '{name}'"
        value = record[name]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            return f"field '{name}' holds {value!r}"
    return None


def check_evaluation_record(record: dict[str, Any]) -> str | None:
    """The check of an evaluation run's records (what `summarize` and `foresight show` read)."""
    return check_fields(record, EVALUATION_FIELDS)


@dataclass(frozen=True)
class BadLine:
    """A line of records.jsonl that holds no usable record: where, why, and its text."""

    number: int
    reason: str
    text: str


@dataclass
class RecordFile:
    """What a records.jsonl holds: the good records by question id (in file order) with the
    bytes of their lines, the bad lines, and a torn last line (a write cut short)."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    lines: dict[str, bytes] = field(default_factory=dict)
    bad: list[BadLine] = field(default_factory=list)
    torn: BadLine | None = None
    needs_rewrite: bool = False  # the file is not exactly the good lines, each ending in a newline


def read_records(path: Path, expected_hash: str, check: RecordCheck = check_evaluation_record) -> RecordFile:
    """Read `path` (a missing file holds no records). A record stamped with a `config_hash` other
    than `expected_hash` is a RunDirError naming its line: it belongs to another run."""
    found = RecordFile()
    if not path.exists():
        return found
    *complete, tail = path.read_bytes().split(b"\n")
    first_line_of: dict[str, int] = {}
    lines = complete + ([tail] if tail.strip() else [])
    for number, line in enumerate(lines, start=1):
        is_tail = number > len(complete)
        if not line.strip():
            found.needs_rewrite = True
            continue
        record, reason = _parse_record(line, path, number, expected_hash, check)
        if reason is None and record["id"] in first_line_of:
            reason = f"a second record of question '{record['id']}' (the first is on line {first_line_of[record['id']]})"
        if reason is None:
            first_line_of[record["id"]] = number
            found.records[record["id"]] = record
            found.lines[record["id"]] = line
            found.needs_rewrite |= is_tail  # a whole record whose newline was not written
            continue
        bad = BadLine(number, reason, line.decode("utf-8", errors="replace"))
        if is_tail:
            found.torn = BadLine(number, "incomplete last line (a write cut short)", bad.text)
        else:
            found.bad.append(bad)
        found.needs_rewrite = True
    return found


def _parse_record(line: bytes, path: Path, number: int, expected_hash: str,
                  check: RecordCheck) -> tuple[dict[str, Any], None] | tuple[None, str]:
    try:
        record = json.loads(line)
    except ValueError:  # also bytes that are not UTF-8
        return None, "not valid JSON"
    if not isinstance(record, dict):
        return None, f"not a JSON object but {type(record).__name__}"
    if "config_hash" in record and record["config_hash"] != expected_hash:
        raise RunDirError(
            f"{path}:{number}: a record of another run (config_hash {record['config_hash']!r}, this directory's "
            f"is {expected_hash!r}); move that line out of the file, or use another --out for that run"
        )
    if not isinstance(record.get("id"), str) or not record["id"]:
        return None, "no question 'id'"
    reason = check(record)
    return (record, None) if reason is None else (None, reason)


def load_records(run_dir: Path, identity: dict[str, Any], check: RecordCheck = check_evaluation_record) -> dict[str, dict[str, Any]]:
    """The good records of a run directory for a read-only command: bad lines are skipped with
    a warning naming them (the next run into the directory moves them aside), a torn last line
    (perhaps a write in progress) silently."""
    path = run_dir / "records.jsonl"
    found = read_records(path, config_hash(identity), check)
    for bad in found.bad:
        log.warning("%s:%d: %s; skipped (the next run into %s moves it to records.rejected.jsonl)",
                    path, bad.number, bad.reason, run_dir)
    return found.records


def read_identity(run_dir: Path) -> dict[str, Any]:
    """The identity in a run directory's config.json, or a RunDirError naming the file."""
    config_path = run_dir / "config.json"
    try:
        identity = json.loads(config_path.read_text())["identity"]
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise RunDirError(f"{config_path}: not a foresight run config ({exc})") from None
    if not isinstance(identity, dict):
        raise RunDirError(f"{config_path}: not a foresight run config (identity is not an object)")
    return identity


class RunDir:
    """One run's directory, locked for writing; open it with the config that decides its
    results, and close it (or use it as a context manager) when the session ends."""

    def __init__(self, path: Path, identity: dict[str, Any], check: RecordCheck = check_evaluation_record) -> None:
        self.path = path
        self.identity = identity
        self.hash = config_hash(identity)
        self.check = check
        self.records_path = path / "records.jsonl"
        self.rejected_path = path / "records.rejected.jsonl"
        self.summary_path = path / "summary.json"
        ensure_writable(path)
        self._lock: IO[str] | None = _lock(path)
        try:
            self._prepare()
            self.records: dict[str, dict[str, Any]] = self._load_records()
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> "RunDir":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the directory for the next writer."""
        if self._lock is not None:
            self._lock.close()  # closing the file releases its flock
            self._lock = None

    def _prepare(self) -> None:
        config_path = self.path / "config.json"
        if config_path.exists():
            existing = read_identity(self.path)
            if existing != self.identity:
                changed = sorted(k for k in set(existing) | set(self.identity) if existing.get(k) != self.identity.get(k))
                raise RunDirError(
                    f"{self.path} holds a run with a different config (differs in: {', '.join(changed)}); "
                    "use another --out directory to keep both"
                )
        else:
            _replace_durably(config_path, (json.dumps({"identity": self.identity, "hash": self.hash}, indent=2) + "\n").encode())

    def _load_records(self) -> dict[str, dict[str, Any]]:
        """Finished records by question id; lines that hold none are moved to
        records.rejected.jsonl (with line number and reason) before the file is rewritten
        with the good lines only, so no good record is ever dropped with a bad one."""
        found = read_records(self.records_path, self.hash, self.check)
        set_aside = found.bad + ([found.torn] if found.torn else [])
        for bad in set_aside:
            log.warning("%s:%d: %s; moved to %s", self.records_path, bad.number, bad.reason, self.rejected_path.name)
        if set_aside:
            moved_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
            with open(self.rejected_path, "a", encoding="utf-8") as handle:
                for bad in set_aside:
                    handle.write(json.dumps({"line": bad.number, "reason": bad.reason, "text": bad.text, "moved_at": moved_at}) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        if found.needs_rewrite:
            _replace_durably(self.records_path, b"".join(line + b"\n" for line in found.lines.values()))
        return found.records

    def is_done(self, question_id: str) -> bool:
        return question_id in self.records

    def append(self, record: dict[str, Any]) -> None:
        """Write one finished question durably before anything else happens."""
        with open(self.records_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.records[record["id"]] = record

    def previous_wall_time(self) -> float:
        if not self.summary_path.exists():
            return 0.0
        try:
            return float(json.loads(self.summary_path.read_text()).get("wall_time_s", 0.0))
        except (ValueError, TypeError, AttributeError):
            return 0.0

    def write_summary(self, summary: dict[str, Any]) -> None:
        _replace_durably(self.summary_path, (json.dumps(summary, indent=2) + "\n").encode())


def _lock(path: Path) -> IO[str]:
    """An exclusive lock on the run directory, held while the returned file stays open (the
    kernel drops it when the process dies, even by SIGKILL); a RunDirError naming the holder's
    pid when another process writes there."""
    handle = open(path / ".lock", "a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise RunDirError(f"{path} is being written by another foresight process (pid {holder}); "
                          "wait for it to finish, or use another --out") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def _replace_durably(path: Path, content: bytes) -> None:
    """Replace `path` by `content` atomically: a crash leaves the old file or the new one."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


def summarize(records: list[dict[str, Any]], wall_time_s: float | None) -> dict[str, Any]:
    """Accuracy and compute totals over finished records."""
    count = len(records)
    correct = sum(1 for r in records if r["correct"])
    no_answer = sum(1 for r in records if r["prediction"] is None)
    total = {key: sum(r[key] for r in records) for key in ("generated_tokens", "prompt_tokens", "prefill_tokens", "paper_flops", "inference_flops")}
    step_values = [r["step_values"] for r in records if r.get("step_values")]
    discriminative = sum(v["discriminative_steps"] for v in step_values)
    return {
        "questions": count,
        "correct": correct,
        "accuracy": correct / count if count else 0.0,
        "answered": count - no_answer,
        "no_answer": no_answer,
        **{f"total_{k}": v for k, v in total.items()},
        "mean_generated_tokens": total["generated_tokens"] / count if count else 0.0,
        "wall_time_s": wall_time_s,
        # See foresight.eval.step_values: None for strategies that estimate no step values.
        "step_value_accuracy": sum(v["accurate_steps"] for v in step_values) / discriminative if discriminative else None,
        "discriminative_steps": discriminative,
    }


def budget_text(strategy: dict[str, Any]) -> str:
    """The compute budget a strategy config sets, for tables and plot labels: "n=8" for
    sampling, "M=4 N=4" for step searches, "-" for greedy decoding."""
    if "n" in strategy:
        return f"n={strategy['n']}"
    if "beams" in strategy:
        return f"M={strategy['beams']} N={strategy['rollouts']}"
    return "-"


def find_run_dirs(paths: list[Path]) -> list[Path]:
    """Run directories among `paths`: each path is one (it holds config.json) or a folder whose
    subfolders are runs, as `foresight run --out DIR` writes them."""
    found: list[Path] = []
    for path in paths:
        if (path / "config.json").is_file():
            found.append(path)
            continue
        if not path.is_dir():
            raise RunDirError(f"{path}: no such run directory")
        children = sorted(child for child in path.iterdir() if (child / "config.json").is_file())
        if not children:
            raise RunDirError(f"{path}: not a run directory (no config.json) and no run directories inside")
        found += children
    return found


def load_run(path: Path) -> dict[str, Any]:
    """A run's summary, recomputed from its records (the record file is the truth, a summary.json
    may predate a killed session), with task, strategy label, budget and model. Wall time comes
    from summary.json, which only a finished session writes (None without one)."""
    identity = read_identity(path)
    records = load_records(path, identity)
    if not records:
        raise RunDirError(f"{path}: holds no finished records yet")
    saved: dict[str, Any] = {}
    if (path / "summary.json").is_file():
        try:
            saved = json.loads((path / "summary.json").read_text())
        except ValueError:
            raise RunDirError(f"{path / 'summary.json'} is not valid JSON") from None
    summary = summarize(list(records.values()), saved.get("wall_time_s"))
    return summary | {
        "task": identity["task"],
        "strategy": saved.get("strategy", path.name),
        "budget": budget_text(identity["strategy"]),
        "model": identity["model"],
        "seed": identity["seed"],
        "run_dir": str(path),
    }
