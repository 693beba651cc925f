"""Why a step search did or did not beat voting: diagnostics read from a phi or predictive run.

Reads the records of one run directory (strategy traces included) and prints, over its questions:

- accuracy of the answers the search chose, how many questions had *any* right final
  completion among the beams (the ceiling of the final choice) and any right foresight path;
- what self-consistency's majority vote over the search's own paths would have scored: over the
  final completions, and over every foresight path the search generated (ties by F);
- how well each value the search computes ranks right paths above wrong ones *within a step*:
  the share of (right, wrong) candidate pairs of the same step where the right one has the higher
  value (ties count half), for the step score, F, A, the alignment C and the selection weight
  (a value the strategy does not compute, constant over the run, prints as -);
- where the selection weight goes at mixed steps (some kept path right, some wrong): the mean
  share of the step's weight on right paths, beside chance (the share of right paths);
- how sharp the selection is: the median over steps of the largest over the smallest weight;
- for a run with φ's positive-advantage filter: the share of kept candidates that qualified and
  of steps where the filter fell back to every kept candidate;
- why stepping stopped.

A path is right when the task's answer extraction and scoring accept it against the gold answer.

    .venv/bin/python benchmarks/step_search_diagnostics.py runs/accuracy-compute/phi [RUN_DIR ...]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import numpy as np

from foresight.eval.runs import load_records, read_identity
from foresight.eval.step_values import valued_candidates
from foresight.strategies import read_trace
from foresight.strategies.sampling import majority_vote
from foresight.strategies.step_traces import StepSearchTrace
from foresight.tasks import load_task

#: The values a step search computes per candidate: name in the report -> CandidateTrace field.
VALUES = {"step score": "score", "F": "F", "A": "A", "C": "C", "weight": "weight"}


def majority_is_right(answers: list[str | None], gold: str, is_correct: Callable[[str | None, str | None], bool],
                      scores: list[float] | None = None) -> bool:
    """Whether self-consistency's vote over these answers is right (no answer never wins; ties go
    to the higher mean score, or without scores to the first seen)."""
    winner = majority_vote(answers, scores if scores is not None else [0.0] * len(answers))
    return winner is not None and is_correct(winner, gold)


def pairwise_ranking(values: list[float], right: list[bool]) -> tuple[float, int]:
    """(right-above-wrong count with ties as half, number of right/wrong pairs) of one step."""
    wins, pairs = 0.0, 0
    for value_right in (v for v, r in zip(values, right) if r):
        for value_wrong in (v for v, r in zip(values, right) if not r):
            wins += 1.0 if value_right > value_wrong else 0.5 if value_right == value_wrong else 0.0
            pairs += 1
    return wins, pairs


def weight_on_right(weights: list[float], right: list[bool]) -> tuple[float, float] | None:
    """(share of the selection weight on right paths, share of right paths) at a mixed step, or
    None where the paths all agree or the step carries no weight."""
    if all(right) or not any(right) or sum(weights) <= 0:
        return None
    return sum(w for w, r in zip(weights, right) if r) / sum(weights), sum(right) / len(right)


def diagnose(run_dir: Path) -> dict[str, Any]:
    if not (run_dir / "config.json").is_file():
        raise SystemExit(f"{run_dir}: not a run directory (no config.json)")
    identity = read_identity(run_dir)
    task = load_task(identity["task"])
    records = load_records(run_dir, identity)
    traces = {key: read_trace(identity["strategy"]["name"], record["trace"]) for key, record in records.items()}
    graded = [(r, traces[key]) for key, r in records.items()
              if r.get("gold") is not None and isinstance(traces[key], StepSearchTrace)]
    if not graded:
        raise SystemExit(f"{run_dir}: no records with a gold answer and a step-search trace")

    counts: Counter[str] = Counter()
    ranking = {name: [0.0, 0] for name in VALUES}
    seen: dict[str, set[float]] = {name: set() for name in VALUES}
    sharpness, stops, mixed, filtered = [], Counter(), [], Counter()
    for record, trace in graded:
        gold = record["gold"]
        counts["chosen"] += bool(record["correct"])
        finals = [completion.text for completion in trace.final.completions]
        final_answers = [task.extract_answer(text) for text in finals]
        counts["any final right"] += any(task.is_correct(answer, gold) for answer in final_answers)
        counts["vote over finals"] += majority_is_right(final_answers, gold, task.is_correct)
        paths: list[str | None] = []
        path_values: list[float] = []
        any_path_right = False
        for step in trace.steps:
            valued = valued_candidates(step)
            answers = [task.extract_answer(c.path) for c in valued]
            paths += answers
            path_values += [c.F for c in valued]
            reaches = [task.is_correct(answer, gold) for answer in answers]
            any_path_right = any_path_right or any(reaches)
            for name, key in VALUES.items():
                values = [getattr(c, key) for c in valued]
                seen[name].update(values)
                wins, pairs = pairwise_ranking(values, reaches)
                ranking[name][0] += wins
                ranking[name][1] += pairs
            share = weight_on_right([c.weight for c in valued], reaches)
            if share is not None:
                mixed.append(share)
            if step.filter is not None:
                filtered["steps"] += 1
                filtered["fallback steps"] += step.filter.fallback
                filtered["kept"] += sum(c.kept for c in step.candidates)
                filtered["qualified"] += step.filter.qualified
            weights = [c.weight for c in valued if c.weight > 0]
            if len(weights) > 1:
                sharpness.append(max(weights) / min(weights))
        counts["vote over all foresight paths"] += majority_is_right(paths, gold, task.is_correct, path_values)
        counts["any foresight path right"] += any_path_right
        if trace.stop_reason is not None:  # records written before predictive recorded it have none
            stops[trace.stop_reason] += 1
    return {
        "run": str(run_dir), "questions": len(graded), "counts": dict(counts),
        "ranking": {name: (wins / pairs if pairs and len(seen[name]) > 1 else None)
                    for name, (wins, pairs) in ranking.items()},
        "pairs": ranking["F"][1],
        "weight_on_right": float(np.mean([w for w, _ in mixed])) if mixed else None,
        "chance_on_right": float(np.mean([c for _, c in mixed])) if mixed else None,
        "mixed_steps": len(mixed),
        "filter": dict(filtered) or None,
        "median_weight_ratio": float(np.median(sharpness)) if sharpness else None,
        "stops": dict(stops),
    }


def print_report(result: dict[str, Any]) -> None:
    n = result["questions"]
    print(f"\n{result['run']}: {n} questions")
    print("| what | questions right | % |\n|---|---|---|")
    for name, value in result["counts"].items():
        print(f"| {name} | {value} | {100 * value / n:.1f} |")
    print(f"\nwithin-step ranking of right over wrong paths ({result['pairs']} pairs):")
    print("| value | right ranked above wrong |\n|---|---|")
    for name, share in result["ranking"].items():
        print(f"| {name} | {'-' if share is None else f'{share:.3f}'} |")
    if result["mixed_steps"]:
        print(f"\nselection weight on right paths at {result['mixed_steps']} mixed steps: "
              f"{100 * result['weight_on_right']:.1f}% (chance {100 * result['chance_on_right']:.1f}%)")
    if result["filter"]:
        f = result["filter"]
        print(f"A>0 filter: {100 * f['qualified'] / max(f['kept'], 1):.1f}% of kept candidates qualified; "
              f"fallback at {f['fallback steps']} of {f['steps']} steps")
    ratio = result["median_weight_ratio"]
    print(f"\nmedian largest/smallest selection weight in a step: {'-' if ratio is None else f'{ratio:.2f}'}")
    if result["stops"]:
        print("stop reasons: " + ", ".join(f"{k} {v}" for k, v in sorted(result["stops"].items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run directories of phi or predictive")
    for run_dir in parser.parse_args().runs:
        print_report(diagnose(run_dir))


if __name__ == "__main__":
    main()
