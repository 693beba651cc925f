"""Run directories: resume, torn and corrupt lines, locking, foreign records, summaries."""

import json
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foresight.errors import RunDirError
from foresight.eval.runs import RunDir, config_hash, load_records, summarize

IDENTITY = {"task": "arith", "strategy": {"name": "cot"}, "model": "arith", "seed": 0}
HASH = config_hash(IDENTITY)


def record(question_id, correct=True, hash_=HASH):
    return {"id": question_id, "config_hash": hash_, "question": "q?", "prediction": "1" if correct else None,
            "correct": correct, "response": "The answer is 1.", "generated_tokens": 10, "prompt_tokens": 5,
            "prefill_tokens": 5, "paper_flops": 60.0, "inference_flops": 30.0, "trace": {}}


def line(question_id, **fields):
    return json.dumps(record(question_id) | fields) + "\n"


def test_records_persist_and_reload(tmp_path):
    with RunDir(tmp_path / "r", IDENTITY) as run:
        run.append(record("a"))
        run.append(record("b", correct=False))
    with RunDir(tmp_path / "r", IDENTITY) as reopened:
        assert reopened.is_done("a") and reopened.is_done("b") and not reopened.is_done("c")


def test_a_torn_last_line_is_set_aside_and_its_question_reruns(tmp_path):
    with RunDir(tmp_path / "r", IDENTITY) as run:
        run.append(record("a"))
    with open(run.records_path, "a") as handle:
        handle.write('{"id": "b", "corr')
    with RunDir(tmp_path / "r", IDENTITY) as reopened:
        assert reopened.is_done("a") and not reopened.is_done("b")
        reopened.append(record("b"))
    assert [json.loads(text)["id"] for text in run.records_path.read_text().splitlines()] == ["a", "b"]
    (moved,) = [json.loads(text) for text in run.rejected_path.read_text().splitlines()]
    assert moved["line"] == 2 and moved["text"] == '{"id": "b", "corr' and "incomplete last line" in moved["reason"]


def test_a_whole_last_record_without_its_newline_is_kept(tmp_path):
    path = tmp_path / "r"
    path.mkdir()
    (path / "records.jsonl").write_text(line("a") + line("b").rstrip("\n"))
    RunDir(path, IDENTITY).close()  # writes config.json for the check below
    with RunDir(path, IDENTITY) as run:
        assert list(run.records) == ["a", "b"]
    assert (path / "records.jsonl").read_text() == line("a") + line("b")


def test_a_corrupt_middle_line_keeps_every_good_record_after_it(tmp_path):
    """On main the rerun cut the file at the bad line: 34 of 40 good records were lost."""
    path = tmp_path / "r"
    RunDir(path, IDENTITY).close()
    good = [line(f"q{i}") for i in range(40)]
    (path / "records.jsonl").write_text("".join(good[:6]) + '{"id": "q6", "gold": 3, oops\n' + "{}\n" + "".join(good[6:]))
    with RunDir(path, IDENTITY) as run:
        assert list(run.records) == [f"q{i}" for i in range(40)]
    assert (path / "records.jsonl").read_text() == "".join(good)
    moved = [json.loads(text) for text in (path / "records.rejected.jsonl").read_text().splitlines()]
    assert [(m["line"], m["reason"]) for m in moved] == [(7, "not valid JSON"), (8, "no question 'id'")]
    assert moved[0]["text"] == '{"id": "q6", "gold": 3, oops'


def test_read_only_readers_skip_bad_lines_by_number_and_change_nothing(tmp_path, caplog):
    path = tmp_path / "r"
    RunDir(path, IDENTITY).close()
    text = line("a") + "garbage\n" + json.dumps({"id": "c", "config_hash": HASH}) + "\n" + line("b") + '{"id": "torn'
    (path / "records.jsonl").write_text(text)
    assert list(load_records(path, IDENTITY)) == ["a", "b"]
    assert (path / "records.jsonl").read_text() == text
    warned = caplog.text
    assert "records.jsonl:2: not valid JSON; skipped" in warned and "records.jsonl:3: missing field 'question'" in warned
    assert ":5:" not in warned  # a torn last line may be a write in progress


def test_a_second_record_of_a_question_is_set_aside(tmp_path):
    path = tmp_path / "r"
    RunDir(path, IDENTITY).close()
    (path / "records.jsonl").write_text(line("a") + line("b") + line("a", correct=False))
    with RunDir(path, IDENTITY) as run:
        assert list(run.records) == ["a", "b"] and run.records["a"]["correct"]
    (moved,) = [json.loads(text) for text in (path / "records.rejected.jsonl").read_text().splitlines()]
    assert moved["line"] == 3 and "a second record of question 'a' (the first is on line 1)" == moved["reason"]


def test_a_record_of_another_config_is_an_error_naming_its_line(tmp_path):
    """On main, sc@4 records in an sc@8 directory were summed into its totals."""
    path = tmp_path / "r"
    RunDir(path, IDENTITY).close()
    text = line("a") + line("b", config_hash="0123456789ab")
    (path / "records.jsonl").write_text(text)
    with pytest.raises(RunDirError, match=r"records.jsonl:2: a record of another run \(config_hash '0123456789ab'"):
        RunDir(path, IDENTITY)
    with pytest.raises(RunDirError, match="records.jsonl:2: a record of another run"):
        load_records(path, IDENTITY)
    assert (path / "records.jsonl").read_text() == text
    (path / "records.jsonl").write_text(line("a"))  # the user moves the line out
    with RunDir(path, IDENTITY) as run:  # and the lock was released on the error
        assert list(run.records) == ["a"]


def test_a_second_writer_is_refused_naming_the_holder(tmp_path):
    import os

    with RunDir(tmp_path / "r", IDENTITY):
        with pytest.raises(RunDirError, match=rf"being written by another foresight process \(pid {os.getpid()}\)"):
            RunDir(tmp_path / "r", IDENTITY)
    with RunDir(tmp_path / "r", IDENTITY):  # released on close
        pass


def test_a_different_config_is_refused(tmp_path):
    RunDir(tmp_path / "r", IDENTITY).close()
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


# ----- property: whatever surrounds them, good records survive a rerun once each --------------

_IDS = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=6)
_GARBAGE = st.one_of(
    st.binary(max_size=40).filter(lambda raw: b"\n" not in raw),  # any bytes, invalid UTF-8 included
    st.text(max_size=40).filter(lambda text: "\n" not in text).map(str.encode),
    st.sampled_from([b"{}", b"[]", b"null", b"17", b'"text"', b'{"id": 3}', b'{"id": ""}', b'{"no": "id"}']),
    _IDS.map(lambda qid: json.dumps({"id": qid, "config_hash": HASH}).encode()),  # a record missing its fields
)
_LINE = st.one_of(_IDS.map(lambda qid: ("good", qid)), _GARBAGE.map(lambda raw: ("garbage", raw)))


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(_LINE, max_size=25), torn=st.one_of(st.none(), _IDS), cut=st.integers(1, 200), new=st.lists(_IDS, max_size=4))
def test_no_good_record_is_lost_or_duplicated_across_a_rerun(tmp_path_factory, lines, torn, cut, new):
    path = tmp_path_factory.mktemp("run")
    RunDir(path, IDENTITY).close()
    content, good = b"", []
    for kind, value in lines:
        if kind == "good":
            content += line(value).encode()
            good.append(value)
        else:
            content += value + b"\n"
    if torn is not None:  # a record cut short by a crash, never whole
        whole = line(torn).encode()
        content += whole[: min(cut, len(whole) - 2)]
    (path / "records.jsonl").write_bytes(content)
    first_seen = list(dict.fromkeys(good))

    with RunDir(path, IDENTITY) as run:  # the rerun: repair, then finish what is missing
        assert list(run.records) == first_seen
        for qid in new:
            if not run.is_done(qid):
                run.append(record(qid))
    with RunDir(path, IDENTITY) as again:
        expected = list(dict.fromkeys(first_seen + new))
        assert list(again.records) == expected
    ids = [json.loads(text)["id"] for text in (path / "records.jsonl").read_text().splitlines()]
    assert ids == expected  # each good record exactly once, in its order
