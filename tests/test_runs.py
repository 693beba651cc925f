"""Run directories: resume, torn records, config mismatch, summaries."""

import json

import pytest

from foresight.errors import RunDirError
from foresight.runs import RunDir, summarize

IDENTITY = {"task": "arith", "strategy": {"name": "cot"}, "model": "arith", "seed": 0}


def record(question_id, correct=True):
    return {"id": question_id, "correct": correct, "prediction": "1" if correct else None,
            "generated_tokens": 10, "prompt_tokens": 5, "prefill_tokens": 5, "paper_flops": 60.0, "inference_flops": 30.0}


def test_records_persist_and_reload(tmp_path):
    run = RunDir(tmp_path / "r", IDENTITY)
    run.append(record("a"))
    run.append(record("b", correct=False))
    reopened = RunDir(tmp_path / "r", IDENTITY)
    assert reopened.is_done("a") and reopened.is_done("b") and not reopened.is_done("c")


def test_a_torn_last_line_is_cut_and_its_question_reruns(tmp_path):
    run = RunDir(tmp_path / "r", IDENTITY)
    run.append(record("a"))
    with open(run.records_path, "a") as handle:
        handle.write('{"id": "b", "corr')
    reopened = RunDir(tmp_path / "r", IDENTITY)
    assert reopened.is_done("a") and not reopened.is_done("b")
    reopened.append(record("b"))
    lines = run.records_path.read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a", "b"]


def test_a_different_config_is_refused(tmp_path):
    RunDir(tmp_path / "r", IDENTITY)
    with pytest.raises(RunDirError, match="different config .*differs in: seed"):
        RunDir(tmp_path / "r", IDENTITY | {"seed": 1})


def test_unwritable_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(RunDirError, match="not writable"):
        RunDir(blocker / "r", IDENTITY)


def test_summary_totals():
    summary = summarize([record("a"), record("b", correct=False)], wall_time_s=3.0)
    assert summary["accuracy"] == 0.5 and summary["answered"] == 1
    assert summary["total_generated_tokens"] == 20 and summary["total_paper_flops"] == 120.0
