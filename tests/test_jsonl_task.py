"""A user's JSONL questions: parsing, scoring, and errors that name the line."""

import pytest

from foresight.errors import DataError
from foresight.tasks import load_task


def write(tmp_path, text):
    path = tmp_path / "q.jsonl"
    path.write_text(text)
    return str(path)


def test_reads_questions_with_ids_and_scores_numbers_by_value(tmp_path):
    task = load_task(None, write(tmp_path, '{"question": "1+1?", "answer": 2}\n\n{"id": "b", "question": "Half?", "answer": "\\\\frac{1}{2}"}\n'))
    first, second = task.questions()
    assert (first.id, first.gold, second.id) == ("line1", "2", "b") and task.answer_format_name == "math"
    assert task.is_correct(task.extract_answer("so\nThe answer is 2.0."), first.gold)
    assert not task.is_correct(task.extract_answer("The answer is 3."), first.gold)
    assert task.is_correct(task.extract_answer("The answer is 0.5."), second.gold)
    assert not task.is_correct(None, first.gold)


@pytest.mark.parametrize("response", ["The answer is \\dfrac{2}{4}", "The answer is 2\\sqrt{3}.", "The answer is x^{2}+1"])
def test_latex_answers_are_read_whole_not_by_their_first_number(tmp_path, response):
    """On main the --data task took the first number it found: each of these scored right against 2."""
    task = load_task(None, write(tmp_path, '{"question": "q", "answer": 2}\n'))
    assert not task.is_correct(task.extract_answer(response), "2")


@pytest.mark.parametrize(
    ("golds", "name", "right", "wrong"),
    [
        (['"Yes"', '"no"'], "yesno", "So the answer is Yes.", "The answer is No."),
        (['"B"', '"E"'], "choice", "The answer is (B).", "The answer is C."),
        (['"Paris"', '"Rome"'], "text", "The answer is paris.", "The answer is Lyon."),
        (['"18 dollars"', '"x"'], "text", "The answer is 18 Dollars.", "The answer is 18."),
    ],
)
def test_the_answer_format_is_inferred_from_the_golds(tmp_path, golds, name, right, wrong):
    text = "".join(f'{{"question": "q{i}", "answer": {gold}}}\n' for i, gold in enumerate(golds))
    task = load_task(None, write(tmp_path, text))
    gold = task.questions()[0].gold
    assert task.answer_format_name == name and task.answer_format_inferred
    assert task.is_correct(task.extract_answer(right), gold) and not task.is_correct(task.extract_answer(wrong), gold)


def test_golds_of_several_kinds_need_an_answer_format(tmp_path):
    path = write(tmp_path, '{"question": "a", "answer": 2}\n{"question": "b", "answer": "Paris"}\n')
    with pytest.raises(DataError, match=r"several kinds \(math at .*q.jsonl:1, text at .*q.jsonl:2\).*--answer-format"):
        load_task(None, path)
    task = load_task(None, path, answer_format="text")
    assert not task.answer_format_inferred and task.is_correct(task.extract_answer("The answer is Paris."), "Paris")
    with pytest.raises(DataError, match="q.jsonl:2: gold answer 'Paris' is not a math answer"):
        load_task(None, path, answer_format="math")


def test_the_data_file_content_and_answer_format_are_the_source(tmp_path):
    path = write(tmp_path, '{"question": "a", "answer": 2}\n')
    before = load_task(None, path).source
    assert load_task(None, path, answer_format="text").source != before
    (tmp_path / "q.jsonl").write_text('{"question": "a", "answer": 3}\n')
    assert load_task(None, path).source != before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"question": "a", "answer": 1}\nnot json\n', "q.jsonl:2: not valid JSON"),
        ('{"question": "a", "answer": 1}\n{"question": "b"}\n', "q.jsonl:2: missing field 'answer'"),
        ('{"answer": 1}\n', "q.jsonl:1: missing field 'question'"),
        ('[1, 2]\n', "q.jsonl:1: expected a JSON object"),
        ('{"id": 1, "question": "a", "answer": 1}\n{"id": 1, "question": "b", "answer": 2}\n', "q.jsonl:2: duplicate id '1'"),
        ('\n\n', "contains no questions"),
        ('{"question": "a", "answer": null}\n', "q.jsonl:1: field 'answer' is null"),
        ('{"question": "a", "answer": 1}\n{"question": "b", "answer": "  "}\n', "q.jsonl:2: field 'answer' is empty"),
    ],
)
def test_bad_files_name_the_line(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        load_task(None, write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_task(None, str(tmp_path / "absent.jsonl"))
