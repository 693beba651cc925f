"""Run directories: crash-safe, resumable records of one (task, strategy, model, seed) run.

Layout of a run directory:
  config.json    what was run; a rerun with a different config is refused
  records.jsonl  one JSON line per finished question, appended and flushed (fsync) as it ends
  summary.json   accuracy and compute totals over all records, rewritten at the end of a session

A question whose record is present is skipped on rerun, so a killed run loses only the
questions in flight; a torn last line (SIGKILL mid-write) is cut off and that question reruns.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from foresight.errors import RunDirError

log = logging.getLogger(__name__)


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


def read_records(path: Path) -> tuple[dict[str, dict[str, Any]], int]:
    """The complete records of a records.jsonl by question id, and the byte length they fill;
    a torn last line (a crash mid-write) is left out. A missing file holds no records."""
    if not path.exists():
        return {}, 0
    raw = path.read_bytes()
    records: dict[str, dict[str, Any]] = {}
    good_end = 0
    for line in raw.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            break
        records[record["id"]] = record
        good_end += len(line)
    return records, good_end


class RunDir:
    """One run's directory; open it with the config that decides its results."""

    def __init__(self, path: Path, identity: dict[str, Any]) -> None:
        self.path = path
        self.identity = identity
        self.hash = config_hash(identity)
        self.records_path = path / "records.jsonl"
        self.summary_path = path / "summary.json"
        self._prepare()
        self.records: dict[str, dict[str, Any]] = self._load_records()

    def _prepare(self) -> None:
        ensure_writable(self.path)
        config_path = self.path / "config.json"
        if config_path.exists():
            try:
                existing = json.loads(config_path.read_text())
            except json.JSONDecodeError:
                raise RunDirError(f"{config_path} is not valid JSON; remove it or use another --out") from None
            if existing.get("identity") != self.identity:
                changed = sorted(
                    k for k in set(existing.get("identity", {})) | set(self.identity)
                    if existing.get("identity", {}).get(k) != self.identity.get(k)
                )
                raise RunDirError(
                    f"{self.path} holds a run with a different config (differs in: {', '.join(changed)}); "
                    "use another --out directory to keep both"
                )
        else:
            config_path.write_text(json.dumps({"identity": self.identity, "hash": self.hash}, indent=2) + "\n")

    def _load_records(self) -> dict[str, dict[str, Any]]:
        """Finished records by question id, cutting a torn trailing line if a crash left one."""
        records, good_end = read_records(self.records_path)
        if self.records_path.exists() and good_end < self.records_path.stat().st_size:
            log.warning("%s: dropping an incomplete last record left by an interrupted run", self.records_path)
            with open(self.records_path, "r+b") as handle:
                handle.truncate(good_end)
        return records

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
        except (json.JSONDecodeError, ValueError):
            return 0.0

    def write_summary(self, summary: dict[str, Any]) -> None:
        temporary = self.summary_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(summary, indent=2) + "\n")
        temporary.replace(self.summary_path)


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
        # See foresight.step_values: None for strategies that estimate no step values.
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
    try:
        identity = json.loads((path / "config.json").read_text())["identity"]
    except (json.JSONDecodeError, KeyError, OSError) as exc:
        raise RunDirError(f"{path / 'config.json'}: not a foresight run config ({exc})") from None
    records, _ = read_records(path / "records.jsonl")
    if not records:
        raise RunDirError(f"{path}: holds no finished records yet")
    saved: dict[str, Any] = {}
    if (path / "summary.json").is_file():
        try:
            saved = json.loads((path / "summary.json").read_text())
        except json.JSONDecodeError:
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
