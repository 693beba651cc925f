"""Benchmark loaders on the real shared files: every file loads, every gold answer parses and is
scored correct when a response states it, and bad files fail naming the row."""

import json
import re

import pytest

from foresight.errors import ConfigError, DataError
from foresight.tasks import BENCHMARK_NAMES, load_task
from foresight.tasks.math_answers import parse_math_gold

SHIPPED = {"gsm8k": 1319, "aime": 30, "scibench": 692, "gpqa": 448, "arc": 1172, "csqa": 1221,
           "logiqa": 651, "reclor": 500, "strategyqa": 2290}
MATH, CHOICE = {"gsm8k", "aime", "scibench"}, {"gpqa", "arc", "csqa", "logiqa", "reclor"}


def stated(name, gold):
    """A response that commits to `gold` in the task's answer format."""
    return f"Step one.\nThe answer is: \\boxed{{{gold}}}" if name in MATH | {"math500"} else f"Step one.\nThe answer is {gold}"


@pytest.mark.benchmark_data
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_shared_file_loads_and_every_gold_scores(name):
    task = load_task(name)
    questions = task.questions()
    assert len(questions) == SHIPPED[name] and len({q.id for q in questions}) == len(questions)
    assert re.fullmatch(r".*\.json \(sha256 [0-9a-f]{12}\)", task.source)
    for question in questions:
        assert question.text.strip() and question.gold
        if name in MATH:
            assert parse_math_gold(question.gold), question
        elif name in CHOICE:
            assert re.fullmatch("[A-E]", question.gold) and f"({question.gold})" in question.text, question
        else:
            assert question.gold in ("Yes", "No")
        assert task.is_correct(task.extract_answer(stated(name, question.gold)), question.gold), question
    if name in CHOICE | {"strategyqa"}:
        other = {"Yes": "No", "No": "Yes"}.get(questions[0].gold) or ("B" if questions[0].gold == "A" else "A")
        assert not task.is_correct(task.extract_answer(stated(name, other)), questions[0].gold)


@pytest.mark.benchmark_data
def test_arc_items_labelled_with_numbers_are_mapped_to_letters():
    mapped = [q for q in load_task("arc").questions() if "original_target" in q.meta]
    assert len(mapped) == 22
    for question in mapped:
        assert question.gold == "ABCD"[int(question.meta["original_target"]) - 1]
        assert "(A)" in question.text and "(1)" not in question.text


@pytest.mark.benchmark_data
def test_context_tasks_show_context_question_and_options():
    question = load_task("reclor").questions()[0]
    assert question.text.startswith("In a business whose owners")
    assert "\nQuestion: The reasoning in the argument is flawed because the argument\n(A) ignores" in question.text
    assert "\n(D) " in question.text and question.gold == "A"


@pytest.mark.benchmark_data
def test_prompts_ask_for_steps_and_the_family_answer_line():
    gsm8k, arc, strategyqa = load_task("gsm8k"), load_task("arc"), load_task("strategyqa")
    system, user = gsm8k.messages(gsm8k.questions()[0])
    assert "one step per line" in system["content"] and "The answer is: \\boxed{X}" in system["content"]
    assert user == {"role": "user", "content": gsm8k.questions()[0].text}
    assert "'The answer is X'" in arc.messages(arc.questions()[0])[0]["content"] and "A, B, C, D or E" in arc.messages(arc.questions()[0])[0]["content"]
    assert "'The answer is Yes'" in strategyqa.messages(strategyqa.questions()[0])[0]["content"]


def test_math500_reads_a_users_jsonl(tmp_path):
    rows = [{"problem": "What is $\\frac{1}{2} + \\frac{1}{4}$?", "answer": "\\frac{3}{4}", "unique_id": "test/algebra/1.json", "level": 1},
            {"problem": "Which is larger?", "answer": "\\text{(C)}"},
            {"problem": "Solve for the interval.", "answer": "[-2,7]"}]
    path = tmp_path / "math500.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = load_task("math500", str(path))
    first, second, third = task.questions()
    assert (first.id, first.gold, first.meta["unique_id"]) == ("math500-0", "\\frac{3}{4}", "test/algebra/1.json")
    assert task.is_correct(task.extract_answer("The answer is: \\boxed{0.75}"), first.gold)
    assert task.is_correct(task.extract_answer("The answer is: \\boxed{\\text{(C)}}"), second.gold)
    assert task.is_correct(task.extract_answer("The answer is: \\boxed{[-2, 7]}"), third.gold)
    assert not task.is_correct(task.extract_answer("The answer is: \\boxed{(-2, 7)}"), third.gold)


def test_math500_is_not_shipped():
    with pytest.raises(DataError, match="task 'math500' is not shipped; give its file with --data"):
        load_task("math500")


def test_data_dir_variable_and_data_option(tmp_path, monkeypatch):
    (tmp_path / "gsm_test.json").write_text(json.dumps([{"input": "1 + 1?", "target": 2.0}]))
    monkeypatch.setenv("FORESIGHT_DATA_DIR", str(tmp_path))
    (question,) = load_task("gsm8k").questions()
    assert (question.id, question.gold) == ("gsm8k-0", "2")
    with pytest.raises(DataError, match=f"task 'arc': {tmp_path}/arc-c_test.json not found .*FORESIGHT_DATA_DIR"):
        load_task("arc")
    mine = tmp_path / "mine.jsonl"
    mine.write_text(json.dumps({"input": "Pick one.\n(A) x\n(B) y", "target": "B"}) + "\n")
    (question,) = load_task("arc", str(mine)).questions()
    assert question.gold == "B"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("gsm8k", [{"input": "q"}], "item 0: missing field 'target'"),
        ("gsm8k", [{"input": "q", "target": 1}, {"input": "q", "target": "x"}], "item 1: field 'target' must be a number"),
        ("gpqa", [{"input": "q (A) a (B) b", "target": "Z"}], "item 0: gold answer 'Z' is not an option letter"),
        ("logiqa", [{"context": "c", "question": "q", "answers": ["a", "b"], "label": 2}], "item 0: field 'label' must be an option index 0-1"),
        ("strategyqa", [{"input": "q", "target": "Yes"}], "item 0: field 'target' must be"),
        ("scibench", [{"input": "q", "target": "about three"}], "item 0: gold answer 'about three' is not a number"),
        ("arc", [{"input": "q", "target": "2"}], "item 0: gold '2' is a number but the options are not labelled"),
        ("gsm8k", [{"input": "q", "target": 1}, 7], "item 1: expected a JSON object, got int"),
    ],
)
def test_bad_rows_name_the_file_and_item(tmp_path, name, content, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(content))
    with pytest.raises(DataError, match=message):
        load_task(name, str(path))


def test_unknown_task_lists_the_benchmarks():
    with pytest.raises(ConfigError, match="unknown task 'gsm'; choose one of: arith, countdown, jsonl, " + ", ".join(BENCHMARK_NAMES)):
        load_task("gsm")
