"""Checks every search strategy goes through on the real embedded models: the same seed gives
the same search, `foresight run` and `show` work on it, and bad settings are one-line errors."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from scripted import context

from foresight.cli import main


def same_seed_same_search(program_function, config, engine, prompt) -> dict[str, Any]:
    """Run one question with seeds 1, 1 and 2; assert seed 1 repeats exactly, seed 2 searches
    otherwise, and the trace reads back from its JSON as it was. Returns seed 1's result and usage."""
    from foresight.driver import Driver, Job

    def search(seed):
        out: dict[str, Any] = {}
        program = program_function(config, context(prompt, lambda t: t, np.random.default_rng(seed), engine.render_chat))
        Driver(engine).run([Job("q", program)], lambda key, result, usage: out.update(result=result, usage=usage))
        return out

    first, again, other = search(1), search(1), search(2)
    assert first["result"].trace == again["result"].trace and first["result"].response == again["result"].response
    assert first["result"].trace != other["result"].trace
    assert first["usage"].generated_tokens > 0
    trace = first["result"].trace
    assert type(trace).from_json(json.loads(json.dumps(trace.to_json()))) == trace  # as records.jsonl keeps it
    return first


def run_and_show(capsys, tmp_path, strategy: str, model: str, *options: str) -> tuple[list[dict], str]:
    """`foresight run` of 2 questions of the model's own task (each record with its step-value
    counts), then `foresight show` of the first: the records and what show printed."""
    out = tmp_path / "runs"
    assert main(["run", "--model", model, "--task", model, "--strategy", strategy, *options, "--limit", "2",
                 "--out", str(out), "--no-progress"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    (run_dir,) = [path for path in out.iterdir() if path.is_dir()]
    records = [json.loads(line) for line in (run_dir / "records.jsonl").read_text().splitlines()]
    assert len(records) == 2 and all(r["generated_tokens"] > 0 for r in records)
    assert all(set(r["step_values"]) == {"discriminative_steps", "accurate_steps"} for r in records)
    assert main(["show", str(run_dir), "--id", records[0]["id"]]) == 0
    return records, capsys.readouterr().out


def one_line_error(capsys, tmp_path, strategy: str, *options: str) -> str:
    """The message of a `foresight run` refused for its settings (before any model loads)."""
    assert main(["run", "--strategy", strategy, *options, "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err
