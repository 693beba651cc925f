"""Math answers: find the answer a response commits to, then let math-verify read and compare it.

Why the span is cut here first: given a whole response, math-verify returns every boxed
expression as one set ("\\boxed{3/4} ... \\boxed{7}" reads as {3/4, 7}), but a response's
answer is the *last* one it commits to. So the span handed to math-verify is the later of the
last "\\boxed{...}" (nested braces balanced) and the last "answer is" phrase (the rest of its
line). math-verify then parses LaTeX and plain expressions (\\frac, \\dfrac, signs, thousands
separators, \\text units, sets, intervals) with sympy and decides equality symbolically.
"""

from __future__ import annotations

import math
import re
import threading

import numpy as np
import sympy
from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

from foresight.tasks.answers import last_boxed

_EXTRACTION = (LatexExtractionConfig(), ExprExtractionConfig())
_ANSWER_PHRASE = re.compile(r"answer is\s*:?", re.IGNORECASE)
_LATEX_SIGN = re.compile(r"[\\^_{}]")
#: SciBench's own rule: a number within 5% of the reference counts as correct.
SCIBENCH_REL_TOL = 0.05


def final_answer_span(response: str) -> str | None:
    """The text holding the response's last committed answer, or None when it commits to none."""
    boxed_at = response.rfind("\\boxed{")
    phrases = list(_ANSWER_PHRASE.finditer(response))
    phrase_at = phrases[-1].start() if phrases else -1
    if boxed_at < 0 and phrase_at < 0:
        return None
    if boxed_at > phrase_at:
        content = last_boxed(response)
        return None if content is None else "\\boxed{" + content + "}"
    tail = response[phrases[-1].end():].split("\n", 1)[0]
    return tail if tail.strip() else None


def _parse(text: str) -> list:
    """math-verify's parse; its signal-based timeout only works on the main thread."""
    on_main = threading.current_thread() is threading.main_thread()
    return parse(text.replace("\u2212", "-"), extraction_config=_EXTRACTION, parsing_timeout=5 if on_main else None)


def _verify(gold: list, prediction: list) -> bool:
    on_main = threading.current_thread() is threading.main_thread()
    return verify(gold, prediction, timeout_seconds=5 if on_main else None)


def _canonical(parsed: list) -> str:
    """A stable text for a parsed answer, so that votes on equal numbers agree ("18.00" -> "18",
    "\\dfrac{3}{4}" -> "3/4", "{7}" -> "7"); anything that is not a plain number keeps
    math-verify's LaTeX."""
    value = parsed[0]
    if isinstance(value, sympy.FiniteSet) and len(value) == 1:
        value = next(iter(value))
    if isinstance(value, sympy.Integer):
        return str(int(value))
    if isinstance(value, sympy.Rational):
        return f"{value.p}/{value.q}"
    if isinstance(value, sympy.Float):
        number = float(value)
        return str(int(number)) if number.is_integer() else np.format_float_positional(number, trim="-")
    return str(parsed[1])


def extract_math_answer(response: str) -> str | None:
    """The response's final math answer as canonical text, or None when it gives none."""
    span = final_answer_span(response)
    if span is None:
        return None
    parsed = _parse_span(span)
    return _canonical(parsed) if parsed else None


def _parse_span(span: str) -> list:
    """An "answer is" line's LaTeX (`\\dfrac{2}{4}`, `2\\sqrt{3}`, `x^{2}+1`) read as the whole
    expression, boxed: math-verify reads unboxed text as plain expressions and would take the
    first number of it; plain text ("1,234 dollars", "$18.00") is read as it stands."""
    if not span.startswith("\\boxed{") and _LATEX_SIGN.search(span):
        parsed = _parse("\\boxed{" + span.strip().rstrip(".").strip().strip("$").strip() + "}")
        if parsed:
            return parsed
    return _parse(span)


def parse_math_gold(gold: str) -> list:
    """A reference answer as math-verify reads it (empty when it does not parse)."""
    return _parse("\\boxed{" + gold.strip() + "}")


def as_float(parsed: list) -> float | None:
    """The parsed answer's value as a real number, or None when it is not one."""
    value = parsed[0] if parsed else None
    if isinstance(value, sympy.Basic) and value.is_number:
        try:
            return float(value)
        except TypeError:  # complex
            return None
    return None


def math_answers_equal(prediction: str | None, gold: str | None, rel_tol: float | None = None) -> bool:
    """Whether `prediction` (as extracted) equals `gold`. With `rel_tol`, two numbers within that
    relative tolerance are equal (SciBench); otherwise math-verify decides."""
    if prediction is None or gold is None:
        return False
    expected = parse_math_gold(gold)
    given = _parse("\\boxed{" + prediction + "}")
    if not expected or not given:
        return False
    if rel_tol is not None:
        a, b = as_float(given), as_float(expected)
        if a is not None and b is not None:
            return math.isclose(a, b, rel_tol=rel_tol)
    return _verify(expected, given)
