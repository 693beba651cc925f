"""Step-level preference pairs on constructed re-sampling records (SPEC §3 step 3), and the
unlabeled-query and pairs-file inputs."""

import json
from collections import Counter

import pytest

from foresight.errors import ConfigError, DataError
from foresight.genius.pairs import build_pairs, read_pairs, write_pairs
from foresight.genius.queries import load_queries

MESSAGES = [{"role": "user", "content": "Q?"}]


def candidate(text, f, advantage):
    return {"beam": 0, "step": text, "trajectory": f"T:{text}", "f": f, "A": advantage, "terminal": False, "selected": False}


def record(steps, query_id="q1"):
    return {"id": query_id, "messages": MESSAGES, "steps": [{"step": i + 1, "candidates": c} for i, c in enumerate(steps)]}


def test_chosen_is_the_highest_f_and_the_query_is_every_pairs_prompt():
    steps = [
        [candidate("a", -0.5, 0.1), candidate("b", -0.2, 0.3), candidate("c", -0.9, -0.2)],
        [candidate("d", -0.4, 0.0), candidate("e", -0.1, 0.2)],
    ]
    rows, stats = build_pairs([record(steps)], exploration_temperature=0.1)
    assert [r["chosen"][0]["content"] for r in rows] == ["T:b", "T:e"]
    assert all(r["prompt"] == MESSAGES for r in rows)
    assert rows[0]["advantage_chosen"] == 0.3 and rows[1]["advantage_chosen"] == 0.2
    assert rows[1]["rejected"][0]["content"] == "T:d" and rows[1]["advantage_rejected"] == 0.0
    assert stats.pairs == 2 and stats.steps == 2 and stats.steps_without_negative == 0


def test_a_step_with_fewer_than_two_distinct_trajectories_gives_no_pair():
    steps = [
        [candidate("only", -0.3, 0.0)],
        [candidate("same", -0.3, 0.0), candidate("same", -0.5, 0.1)],  # same trajectory text twice
        [],
        [candidate("x", -0.3, 0.0), candidate("y", -0.4, 0.5)],
    ]
    rows, stats = build_pairs([record(steps)], exploration_temperature=0.1)
    assert len(rows) == 1 and rows[0]["id"] == "q1/step4"
    assert stats.steps_without_negative == 3
    assert stats.calibration_pairs == 1  # A_l = 0.5 > A_w = 0.0


def test_the_negative_follows_softmax_f_over_tau_without_the_chosen_one():
    steps = [[candidate("best", 0.0, 0.0), candidate("close", -0.05, 0.0), candidate("far", -3.0, 0.0)]]
    records = [record(steps, query_id=f"q{i}") for i in range(400)]
    foresight_rule = Counter(r["rejected"][0]["content"] for r in build_pairs(records, 0.1)[0])
    uniform_rule = Counter(r["rejected"][0]["content"] for r in build_pairs(records, 0.1, rejected="uniform")[0])
    assert foresight_rule["T:best"] == 0 and uniform_rule["T:best"] == 0
    assert foresight_rule["T:far"] == 0  # weight exp(-29.5) relative to "close"
    assert 150 < uniform_rule["T:far"] < 250


def test_same_seed_same_pairs_other_seed_other_draws():
    steps = [[candidate(str(i), -0.1 * i, 0.0) for i in range(6)] for _ in range(4)]
    records = [record(steps, query_id=f"q{i}") for i in range(30)]
    first = build_pairs(records, 1.0, seed=1)[0]
    assert first == build_pairs(records, 1.0, seed=1)[0]
    assert first != build_pairs(records, 1.0, seed=2)[0]


def test_pairs_file_round_trip_and_missing_weight_columns(tmp_path):
    rows, _ = build_pairs([record([[candidate("a", -0.1, 0.1), candidate("b", -0.2, 0.0)]])], 0.1)
    path = tmp_path / "pairs.jsonl"
    write_pairs(rows, path)
    assert read_pairs(path, need_advantages=True) == rows
    stripped = tmp_path / "plain.jsonl"
    stripped.write_text(json.dumps({k: rows[0][k] for k in ("prompt", "chosen", "rejected")}) + "\n")
    assert len(read_pairs(stripped, need_advantages=False)) == 1
    with pytest.raises(DataError, match=r"plain.jsonl:1: missing column\(s\) advantage_chosen, advantage_rejected"):
        read_pairs(stripped, need_advantages=True)


def test_unlabeled_queries_refuse_answers_and_empty_files(tmp_path):
    labeled = tmp_path / "labeled.jsonl"
    labeled.write_text('{"question": "1+1?"}\n{"question": "2+2?", "answer": "4"}\n')
    with pytest.raises(DataError, match="labeled.jsonl:2: has an 'answer' field"):
        load_queries(str(labeled))
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(DataError, match="contains no questions"):
        load_queries(str(empty))
    with pytest.raises(ConfigError):
        load_queries(None, None)


def test_arith_queries_come_without_answers():
    queries = load_queries(task="arith", count=5)
    assert len(queries.questions) == 5 and all(q.gold is None for q in queries.questions)
    assert "seed=4" in queries.source
