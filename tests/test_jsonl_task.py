"""A user's JSONL questions: parsing, scoring, and errors that name the line."""

import pytest

from foresight.errors import DataError
from foresight.tasks import load_task


def write(tmp_path, text):
    path = tmp_path / "q.jsonl"
    path.write_text(text)
    return str(path)


def test_reads_questions_with_ids_and_scores_numbers_numerically(tmp_path):
    task = load_task(None, write(tmp_path, '{"question": "1+1?", "answer": 2}\n\n{"id": "b", "question": "Name?", "answer": "Paris"}\n'))
    first, second = task.questions()
    assert (first.id, first.gold, second.id) == ("line1", "2", "b")
    assert task.is_correct(task.extract_answer("so\nThe answer is 2.0."), first.gold)
    assert not task.is_correct(task.extract_answer("The answer is 3."), first.gold)
    assert task.is_correct(task.extract_answer("The answer is paris."), second.gold)
    assert not task.is_correct(None, first.gold)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"question": "a", "answer": 1}\nnot json\n', "q.jsonl:2: not valid JSON"),
        ('{"question": "a", "answer": 1}\n{"question": "b"}\n', "q.jsonl:2: missing field 'answer'"),
        ('{"answer": 1}\n', "q.jsonl:1: missing field 'question'"),
        ('[1, 2]\n', "q.jsonl:1: expected a JSON object"),
        ('{"id": 1, "question": "a", "answer": 1}\n{"id": 1, "question": "b", "answer": 2}\n', "q.jsonl:2: duplicate id '1'"),
        ('\n\n', "contains no questions"),
    ],
)
def test_bad_files_name_the_line(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        load_task(None, write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_task(None, str(tmp_path / "absent.jsonl"))
