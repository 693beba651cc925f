"""The embedded `arith` task as a `Task`: held-out problems of the tiny model's distribution."""

from __future__ import annotations

from foresight.tasks.arith import HELDOUT_SEED, make_problems
from foresight.tasks.base import STEP_BY_STEP_SYSTEM_PROMPT, Question
from foresight.tasks.benchmarks import NUMBER

ARITH_HELDOUT_SIZE = 500
ARITH_HELDOUT_STEPS = (4, 8)


class ArithTask:
    """By default the 500 held-out problems of 4 to 8 steps (seed HELDOUT_SEED, never seen in
    training); benchmarks pick other seeds of `foresight.tasks.arith`.

    The system prompt is for general instruct models; the embedded arith model's chat template
    has no system slot and ignores it. Answers are read and compared by the benchmarks' math
    reader (math-verify), the one reader of numeric answers.
    """

    name = "arith"

    def __init__(self, seed: int = HELDOUT_SEED, size: int = ARITH_HELDOUT_SIZE,
                 steps: tuple[int, int] = ARITH_HELDOUT_STEPS) -> None:
        self.problems = make_problems(seed, size, *steps)
        self.source = f"arith(seed={seed}, size={size}, steps={steps[0]}-{steps[1]})"

    def questions(self) -> list[Question]:
        return [
            Question(p.id, p.question, str(p.answer), {"num_steps": p.num_steps})
            for p in self.problems
        ]

    def messages(self, question: Question) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": STEP_BY_STEP_SYSTEM_PROMPT},
            {"role": "user", "content": question.text},
        ]

    def extract_answer(self, response: str) -> str | None:
        return NUMBER.extract(response)

    def is_correct(self, prediction: str | None, gold: str | None) -> bool:
        return NUMBER.equal(prediction, gold)
