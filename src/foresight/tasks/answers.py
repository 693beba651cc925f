"""The last `\\boxed{...}` of a response, shared by the math and the choice readers.

(Numbers are read by `math_answers`, through math-verify: one reader per answer kind.)
"""

from __future__ import annotations


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
