"""Numeric answer extraction and comparison.

A response commits to an answer with "The answer is X" (the last such phrase counts) or, failing
that, with the last "\\boxed{X}". X may carry a sign (also the Unicode minus), thousands
separators, decimals, a simple fraction, a currency sign or a trailing unit; it is normalised to
a canonical number string so that equal values compare equal.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

_ANSWER_PHRASE = re.compile(r"answer is\s*:?", re.IGNORECASE)
_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+)?|[-+]?\.\d+")


def last_boxed(text: str) -> str | None:
    """Content of the last \\boxed{...}, with nested braces balanced; None if there is none."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, begin = 0, start + len("\\boxed{")
    for position in range(begin, len(text)):
        if text[position] == "{":
            depth += 1
        elif text[position] == "}":
            if depth == 0:
                return text[begin:position]
            depth -= 1
    return None


def parse_number(text: str) -> str | None:
    """Canonical form of the first number in `text` ("1,234.50" -> "1234.5", "-3/4" -> "-0.75")."""
    cleaned = text.replace("\u2212", "-").replace("$", "")
    cleaned = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"\1/\2", cleaned)
    match = _NUMBER.search(cleaned)
    if match is None:
        return None
    literal = re.sub(r"\s", "", match.group(0)).replace(",", "")
    try:
        value = Fraction(literal)
    except (ValueError, ZeroDivisionError):
        return None
    if value.denominator == 1:
        return str(value.numerator)
    return repr(float(value))


def extract_numeric_answer(response: str) -> str | None:
    """The number a response gives as its final answer, or None."""
    phrases = list(_ANSWER_PHRASE.finditer(response))
    if phrases:
        tail = response[phrases[-1].end():].split("\n", 1)[0]
        boxed = last_boxed(tail)
        number = parse_number(boxed if boxed is not None else tail)
        if number is not None:
            return number
    boxed = last_boxed(response)
    return parse_number(boxed) if boxed is not None else None


def numbers_equal(prediction: str | None, gold: str | None, rel_tol: float = 1e-6) -> bool:
    """Numeric equality with a small relative tolerance; anything unparsable is unequal."""
    if prediction is None or gold is None:
        return False
    try:
        a, b = float(prediction), float(gold)
    except ValueError:
        return False
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-9)
