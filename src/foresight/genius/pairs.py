"""`foresight genius pairs`: step-level preference pairs from re-sampling records (SPEC §3 step 3).

At every step k of a query's search, the chosen trajectory T_w is the candidate with the highest
foresight score f; the rejected T_l is drawn from F_k = softmax(f/τ) with T_w excluded (paper
Eq. 5; `rejected="uniform"` is the released script's rule). The query is the prompt of every
pair. Rows are TRL's conversational preference format (`prompt`, `chosen`, `rejected`) plus the
advantage columns ACO needs (`advantage_chosen` = A_w, `advantage_rejected` = A_l).

A candidate whose trajectory text equals T_w's is not a usable negative (the pair would carry
no preference), so it is excluded from the draw; a step left with no other trajectory yields no
pair and is counted in the statistics.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from foresight.errors import DataError
from foresight.strategies.base import question_rng
from foresight.eval.runs import load_records, read_identity
from foresight.strategies.selection import softmax
from foresight.tasks.datafiles import read_rows

REJECTED_RULES = ("foresight", "uniform")
#: What ranks a step's candidates: the foresight value f and its advantage A (Genius), or the
#: candidate step's own mean log-prob v with A = v minus the step's mean v (the paper's
#: "w/o foresight" ablation: the same search, valued without looking ahead).
PAIR_VALUES = ("foresight", "step")
ADVANTAGE_COLUMNS = ("advantage_chosen", "advantage_rejected")


@dataclass
class PairStats:
    """How the pairs came about, for the closing report."""

    queries: int = 0
    steps: int = 0
    pairs: int = 0
    steps_without_negative: int = 0  # every other candidate repeated T_w (or there was none)
    calibration_pairs: int = 0  # A_l > A_w: ACO's calibration region
    advantage_gaps: list[float] = field(default_factory=list)  # A_w − A_l per pair

    def as_dict(self) -> dict[str, Any]:
        gaps = np.asarray(self.advantage_gaps) if self.advantage_gaps else np.zeros(1)
        return {
            "queries": self.queries, "steps": self.steps, "pairs": self.pairs,
            "steps_without_negative": self.steps_without_negative,
            "calibration_pairs": self.calibration_pairs,
            "calibration_share": self.calibration_pairs / self.pairs if self.pairs else 0.0,
            "median_advantage_gap": float(np.median(gaps)),
        }


def build_pairs(records: Iterable[dict[str, Any]], exploration_temperature: float, seed: int = 0,
                rejected: str = "foresight", value: str = "foresight") -> tuple[list[dict[str, Any]], PairStats]:
    """One pair per step of every record that has a usable negative, ranked by `value`."""
    if rejected not in REJECTED_RULES:
        raise ValueError(f"rejected must be one of {REJECTED_RULES}, got {rejected!r}")
    if value not in PAIR_VALUES:
        raise ValueError(f"value must be one of {PAIR_VALUES}, got {value!r}")
    rows: list[dict[str, Any]] = []
    stats = PairStats()
    for record in records:
        stats.queries += 1
        rng = question_rng(seed, record["id"])
        for step in record["steps"]:
            stats.steps += 1
            candidates = step["candidates"] if value == "foresight" else _valued_by_step(record["id"], step)
            pair = _step_pair(candidates, exploration_temperature, rejected, rng)
            if pair is None:
                stats.steps_without_negative += 1
                continue
            winner, loser = pair
            rows.append({
                "id": f"{record['id']}/step{step['step']}",
                "prompt": record["messages"],
                "chosen": [{"role": "assistant", "content": winner["trajectory"]}],
                "rejected": [{"role": "assistant", "content": loser["trajectory"]}],
                "advantage_chosen": winner["A"],
                "advantage_rejected": loser["A"],
                "f_chosen": winner["f"],
                "f_rejected": loser["f"],
            })
            stats.pairs += 1
            stats.calibration_pairs += loser["A"] > winner["A"]
            stats.advantage_gaps.append(winner["A"] - loser["A"])
    return rows, stats


def _valued_by_step(record_id: str, step: dict[str, Any]) -> list[dict[str, Any]]:
    """The step's candidates with f := the step's own mean log-prob and A := f minus its mean."""
    if any("step_value" not in c for c in step["candidates"]):
        raise DataError(f"query {record_id}: its sample records have no step_value (written before the "
                        "no-foresight ablation existed); sample again to build step-valued pairs")
    values = [c["step_value"] for c in step["candidates"]]
    baseline = float(np.mean(values)) if values else 0.0
    return [c | {"f": v, "A": v - baseline} for c, v in zip(step["candidates"], values)]


def _step_pair(candidates: list[dict[str, Any]], temperature: float, rejected: str,
               rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, Any]] | None:
    if not candidates:
        return None
    winner = max(candidates, key=lambda c: c["f"])
    pool = [c for c in candidates if c["trajectory"] != winner["trajectory"]]
    if not pool:
        return None
    if rejected == "uniform":
        return winner, pool[int(rng.integers(len(pool)))]
    weights = softmax([c["f"] for c in pool], temperature)
    return winner, pool[int(rng.choice(len(pool), p=weights))]


def read_sampling_run(run_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The identity and records of a `genius sample` run directory (through the run
    directories' one reader: a record that lacks what pairs need is named and skipped)."""
    from foresight.genius.sample import check_sample_record

    config_path, records_path = run_dir / "config.json", run_dir / "records.jsonl"
    if not config_path.is_file() or not records_path.is_file():
        raise DataError(f"{run_dir}: not a genius sample directory (needs config.json and records.jsonl)")
    identity = read_identity(run_dir)
    if identity.get("kind") != "genius-sample":
        raise DataError(f"{run_dir}: holds a '{identity.get('kind', 'evaluation')}' run, not a genius sample run")
    records = list(load_records(run_dir, identity, check_sample_record).values())
    if not records:
        raise DataError(f"{records_path}: has no usable records; run `foresight genius sample` first")
    return identity, records


def write_pairs(rows: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    temporary.replace(path)


def read_pairs(path: Path, need_advantages: bool) -> list[dict[str, Any]]:
    """Pairs from JSONL; each row needs prompt/chosen/rejected, and the advantage columns when
    the loss reads them. Errors name the file and line."""
    needed = ("prompt", "chosen", "rejected") + (ADVANTAGE_COLUMNS if need_advantages else ())
    rows = []
    for row in read_rows(path, items="pairs"):
        missing = [name for name in needed if name not in row.fields]
        if missing:
            hint = (" (the ACO losses weight each pair by its advantages; build pairs with "
                    "`foresight genius pairs`, or train with --loss dpo)") if set(missing) & set(ADVANTAGE_COLUMNS) else ""
            raise DataError(f"{row.where}: missing column(s) {', '.join(missing)}{hint}")
        rows.append(row.fields)
    return rows
