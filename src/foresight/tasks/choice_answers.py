"""Multiple-choice letters and Yes/No answers: what a response commits to.

The answer is read after the last "answer is" / "answer:" phrase that is followed by a valid
choice ("The answer is (C)", "answer: c", "The answer is: \\boxed{B}"); failing that, from the
last \\boxed{...}; failing that, from a last line that is only a choice ("(C)", "C.") or that
restates one option ("(C) Planetary days will become shorter.") when no other line opens with
an option label (a response that lists the options answers nothing). A lower-case letter
counts only when a ")" or nothing but punctuation follows it on its line, so "the answer is a
bank" is not read as A. A letter outside the task's options is no answer.
"""

from __future__ import annotations

import re

from foresight.tasks.answers import last_boxed

_PHRASE = r"\banswer\b(?:\s+is)?\s*:?(?:[\s$*(]|\\boxed\{|\\text\{)*"
_CHOICE_AFTER_PHRASE = re.compile(_PHRASE + r"([A-Za-z])(?![A-Za-z])(?=([^\n]*))", re.IGNORECASE)
_YES_NO_AFTER_PHRASE = re.compile(_PHRASE + r"(yes|no)\b", re.IGNORECASE)
_BARE_CHOICE_LINE = re.compile(r"\(?([A-Z])\)?[.:]?")
_LABELLED_LINE = re.compile(r"\(([A-Z])\)")


def extract_choice(response: str, letters: str) -> str | None:
    """The option letter (upper case, one of `letters`) the response settles on, or None."""
    for match in reversed(list(_CHOICE_AFTER_PHRASE.finditer(response))):
        letter, rest = match.group(1), match.group(2)
        if letter.islower() and not rest.startswith(")") and rest.strip(" .}*$") != "":
            continue
        if letter.upper() in letters:
            return letter.upper()
    boxed = last_boxed(response)
    if boxed is not None:
        inner = re.sub(r"\\text\{([^{}]*)\}", r"\1", boxed).strip().strip("()").strip()
        return inner.upper() if len(inner) == 1 and inner.upper() in letters else None
    lines = [line.strip() for line in response.strip().splitlines() if line.strip()]
    if not lines:
        return None
    bare = _BARE_CHOICE_LINE.fullmatch(lines[-1])
    labelled = [line for line in lines if _LABELLED_LINE.match(line)]
    if bare is None and labelled == [lines[-1]]:  # one option restated as the closing line
        bare = _LABELLED_LINE.match(lines[-1])
    return bare.group(1) if bare is not None and bare.group(1) in letters else None


def extract_yes_no(response: str) -> str | None:
    """"Yes" or "No" as the response's final answer, or None."""
    matches = list(_YES_NO_AFTER_PHRASE.finditer(response))
    if matches:
        return matches[-1].group(1).capitalize()
    boxed = last_boxed(response)
    if boxed is not None:
        inner = re.sub(r"\\text\{([^{}]*)\}", r"\1", boxed).strip().rstrip(".").casefold()
        if inner in ("yes", "no"):
            return inner.capitalize()
    return None


def same_choice(prediction: str | None, gold: str | None) -> bool:
    """Exact match of canonical choices (letters or Yes/No); a missing prediction is wrong."""
    return prediction is not None and gold is not None and prediction == gold
