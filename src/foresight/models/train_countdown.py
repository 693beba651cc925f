"""Train the embedded countdown model: a tiny LLaMA that solves, and judges, countdown problems.

The same machinery as :mod:`foresight.models.train_arith` (SentencePiece tokenizer, LLaMA
config, AdamW with warmup and cosine, loss on the answer only, one CPU thread), with a
different data stream drawn from the ``TRAIN_SEED`` stream of :mod:`foresight.tasks.countdown`:

* solution batches (``--batch-size`` problems): each problem's answer is, with probability
  ``--failure-rate``, an *honest failure* (a uniformly random path from the same numbers with
  right arithmetic whose last value is not the target, ended by its real value), else the
  problem's solution. A model that has seen failures can write a dead end as one instead of
  bending a sum onto the target, and its likelihood then tells the two apart; with
  ``--failure-loss ending`` a failure's loss covers only its last step line, its answer line and
  the closing ``</s>``, so the model learns to end a dead end honestly without learning the
  random path into it as a likely way to start; ``--failure-loss unsure`` does the same but
  trains the value a failure's answer line states toward a uniform distribution over the
  numbers 1-100 instead of the value itself, so the model is unsure of its answer exactly when
  its steps missed the target, and a dead end's path ends on a token of low probability;
* a ``--drill-share`` of the steps are arithmetic drills: the prompt ``Compute each step.``
  answered by legal steps ``a op b = c`` on an intermediate result, the arithmetic a
  solution's later lines need and rarely show; with ``--drill-loss result`` a drill's loss
  covers only the result of each line (and the closing ``</s>``), not its random operands;
* a ``--check-share`` of the steps are batches of step-check prompts and a ``--vote-share``
  batches of vote prompts (:mod:`foresight.tasks.countdown_judge`), answered with the exact
  solver's label. Judge batches are their own batches so that their long prompts do not pad
  the solution batches.

Every answer to a problem opens with φ's step prefix. Problems whose (numbers, target) occur
among the first problems of the held-out, test or benchmark streams are skipped.

The shipped model in ``foresight/models/countdown`` was produced by the defaults::

    foresight build-model countdown --out src/foresight/models/countdown
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np
import torch

from foresight.models.train_arith import (
    ANSWER_PREFIX,
    CHAT_TEMPLATE,
    IGNORE_INDEX,
    LOG_EVERY,
    TrainingResult,
    build_arg_parser,
    build_model,
    build_tokenizer,
    causal_lm_loss,
    encode_turns,
    model_record,
    save_model,
    train,
)
from foresight.tasks.countdown import (
    BENCHMARK_SEED,
    HELDOUT_SEED,
    MAX_NUMBERS,
    MIN_NUMBERS,
    NUMBER_RANGE,
    TARGET_RANGE,
    TEST_SEED,
    TRAIN_SEED,
    generate_problem,
    make_problems,
    random_path,
    solution_text,
)
from foresight.tasks.countdown_judge import step_check_example, vote_example

EXCLUDED_SEEDS = (HELDOUT_SEED, TEST_SEED, BENCHMARK_SEED)
EXCLUDED_PROBLEMS_PER_SEED = 500  # every use reads at most the first 300 of a stream
TOKENIZER_CORPUS_PROBLEMS = 3000
FAILURE_TRIES = 20
VARIANTS_HEADING = "## Variants tried"
DRILL_PROMPT = "Compute each step."
DRILL_MIN_OPERAND = 10
DRILL_RESULT_RE = re.compile(r"= (\d+)$", re.MULTILINE)  # the result of an ``a op b = c`` drill line
DRILL_LOSSES = ("all", "result")
FAILURE_LOSSES = {  # where an honest failure's loss falls (--failure-loss), as the training record words it
    "all": "loss on every answer token",
    "ending": "loss on the last step line, the answer line and `</s>` only",
    "unsure": "loss on the last step line, the answer line and `</s>` only, the stated value trained toward "
              "a uniform distribution over the values 1-100 (needs `--numbers every`)",
}
TARGET_RE = re.compile(r"to make (\d+)\.$")  # a solution prompt's target
STATED_VALUE_RE = re.compile(r"The answer is (\d+)\.$")  # an answer's closing line
NUMBER_TOKEN_RANGE = (1, 100)  # every legal step result
NUMBER_TOKEN_REPEATS = 300  # corpus repeats of each number: enough for BPE to merge them all
NUMBER_TOKENIZATIONS = {  # how numbers become tokens (--numbers), as the training record words it
    "every": "every whole number 1-100 is one token, after a space and at a line's start",
    "merged": "numbers are the tokens BPE merges from the training text, the rest digits",
    "digits": "one token per digit",
}
KIND_STREAM = 20_000_000  # generator of the batch kinds: apart from the problem and tokenizer draws


def build_countdown_arg_parser() -> argparse.ArgumentParser:
    """The arith trainer's options with countdown defaults, plus the data mixture.

    The defaults reproduce the shipped model (variant V of its TRAINING.md, chosen on
    held-out properties, never on a benchmark)."""
    parser = build_arg_parser()
    parser.prog = "foresight build-model countdown"
    parser.description = "Train the tiny LLaMA model for the countdown task on CPU and save it."
    parser.set_defaults(steps=4000, batch_size=64, hidden_size=128, intermediate_size=384, num_layers=2,
                        num_heads=4, vocab_size=768, max_positions=512, minutes=45.0, seed=1)
    parser.add_argument("--failure-rate", type=float, default=0.25, help="share of honest failures among solution answers")
    parser.add_argument("--count-weights", type=float, nargs=3, default=[1.0, 1.0, 1.0], metavar=("W3", "W4", "W5"),
                        help="relative weights of problems with 3, 4 and 5 numbers")
    parser.add_argument("--check-share", type=float, default=0.08, help="share of steps that are step-check batches")
    parser.add_argument("--vote-share", type=float, default=0.05, help="share of steps that are vote batches")
    parser.add_argument("--drill-share", type=float, default=0.05, help="share of steps that are arithmetic drill batches")
    parser.add_argument("--drill-lines", type=int, default=16, help="step lines per drill answer")
    parser.add_argument("--drill-loss", choices=DRILL_LOSSES, default="result",
                        help="loss on every token of a drill answer (all) or only on each line's result and the closing </s> (result)")
    parser.add_argument("--failure-loss", choices=list(FAILURE_LOSSES), default="ending",
                        help="where an honest failure's loss falls: " + "; ".join(f"{name}: {text}" for name, text in FAILURE_LOSSES.items()))
    parser.add_argument("--numbers", choices=list(NUMBER_TOKENIZATIONS), default="every",
                        help="how the tokenizer splits numbers: " + "; ".join(f"{name}: {text}" for name, text in NUMBER_TOKENIZATIONS.items()))
    parser.add_argument("--judge-batch-size", type=int, default=32, help="prompts per step-check batch (vote batches: half)")
    return parser


def excluded_problems() -> set[tuple[tuple[int, ...], int]]:
    """(sorted numbers, target) of the held-out, test and benchmark streams, kept out of training."""
    return {
        (tuple(sorted(p.numbers)), p.target)
        for seed in EXCLUDED_SEEDS
        for p in make_problems(seed, EXCLUDED_PROBLEMS_PER_SEED)
    }


def honest_failure(rng: np.random.Generator, numbers: tuple[int, ...], target: int) -> str | None:
    """A random path from ``numbers`` that misses ``target``, as an answer (None if none found)."""
    for _ in range(FAILURE_TRIES):
        path = random_path(rng, numbers)
        if path[-1].result != target:
            return solution_text(path)
    return None


def mixture_error(args: argparse.Namespace) -> str | None:
    """What makes the data mixture or the tokenizer options impossible (None when they are fine)."""
    if min(args.count_weights) < 0 or sum(args.count_weights) <= 0:
        return "--count-weights must be non-negative with a positive sum"
    for name in ("failure_rate", "check_share", "vote_share", "drill_share"):
        if not 0 <= getattr(args, name) <= 1:
            return f"--{name.replace('_', '-')} must be between 0 and 1"
    if args.check_share + args.vote_share + args.drill_share >= 1:
        return "--check-share, --vote-share and --drill-share must leave room for solution batches"
    if args.drill_lines < 1:
        return "--drill-lines must be at least 1"
    if args.failure_loss == "unsure" and args.numbers != "every":
        return "--failure-loss unsure needs --numbers every (every value 1-100 its own token)"
    return None


def drill_answer(rng: np.random.Generator, lines: int) -> str:
    """``lines`` legal steps with an operand of at least ``DRILL_MIN_OPERAND``, as ``a op b = c``
    lines, taken from random paths of random problems.

    Steps on two small numbers are learned from the solutions alone; steps on an intermediate
    result (most often a product) are where the model's arithmetic fails, and each occurs
    too rarely in solutions to be learned as the lookup it is when numbers are single tokens."""
    out: list[str] = []
    while len(out) < lines:
        numbers = tuple(int(x) for x in rng.integers(NUMBER_RANGE[0], NUMBER_RANGE[1] + 1, size=int(rng.integers(MIN_NUMBERS, MAX_NUMBERS + 1))))
        out += [f"{s.a} {s.op} {s.b} = {s.result}" for s in random_path(rng, numbers) if s.a >= DRILL_MIN_OPERAND]
    return "\n".join(out[:lines])


def span_token_mask(tokenizer, user: str, answer: str, spans: list[tuple[int, int]]) -> list[bool]:
    """For each token of ``bos + chat(user, answer)`` (as :func:`encode_turns` encodes it): does
    it overlap one of ``spans`` (character ranges of ``answer``)?

    A number may be several tokens (numbers BPE did not merge are split into digits, ``▁9 4``);
    a token counts when its characters overlap a span."""
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": user}], add_generation_prompt=True, tokenize=False)
    full = tokenizer.apply_chat_template([{"role": "user", "content": user}, {"role": "assistant", "content": answer}], tokenize=False)
    if not full.startswith(prompt + answer):
        raise ValueError("the chat template does not render the answer right after the generation prompt")
    shifted = [(len(prompt) + begin, len(prompt) + end) for begin, end in spans]
    offsets = tokenizer(full, return_offsets_mapping=True)["offset_mapping"]
    return [any(start < end and stop > begin for begin, end in shifted) for start, stop in offsets]


def answer_span_mask(tokenizer, user: str, answer: str, spans: list[tuple[int, int]]) -> list[bool]:
    """:func:`span_token_mask`, with the closing ``</s>`` counted too."""
    mask = span_token_mask(tokenizer, user, answer, spans)
    mask[-1] = True
    return mask


def drill_result_spans(answer: str) -> list[tuple[int, int]]:
    """The character range of each drill line's result."""
    return [m.span(1) for m in DRILL_RESULT_RE.finditer(answer)]


def failure_stated_value_span(user: str, answer: str) -> tuple[int, int] | None:
    """For an honest failure (a solution prompt answered with a value that misses its target):
    the character range of the value its answer line states; None for any other turn."""
    target, stated = TARGET_RE.search(user), STATED_VALUE_RE.search(answer)
    if target is None or stated is None or target[1] == stated[1]:
        return None
    return stated.span(1)


def failure_ending_spans(user: str, answer: str) -> list[tuple[int, int]] | None:
    """For an honest failure: the range from its last step line to the end; None for any other turn."""
    if failure_stated_value_span(user, answer) is None:
        return None
    lines = answer.rstrip("\n").split("\n")
    return [(len(answer) - len("\n".join(lines[-2:])), len(answer))]


def failure_value_positions(tokenizer, turns: list[tuple[str, str]], width: int) -> torch.Tensor:
    """Bool ``(len(turns), width)``: the token of each honest failure's stated value, where
    ``--failure-loss unsure`` trains toward the uniform distribution over the values 1-100 (their first tokens)."""
    positions = torch.zeros(len(turns), width, dtype=torch.bool)
    for row, (user, answer) in enumerate(turns):
        if (span := failure_stated_value_span(user, answer)) is not None:
            mask = span_token_mask(tokenizer, user, answer, [span])
            if sum(mask) != 1:
                raise ValueError(f"the stated value {answer[span[0]:span[1]]!r} is not one token: train with --numbers every")
            positions[row, : len(mask)] = torch.tensor(mask)
    return positions


def encode_training_turns(tokenizer, turns: list[tuple[str, str]], drill_loss: str = "all",
                          failure_loss: str = "all") -> tuple[torch.Tensor, ...]:
    """:func:`encode_turns`; with ``drill_loss="result"`` the labels of drill answers (prompt
    ``DRILL_PROMPT``) are kept only on each line's result and the closing ``</s>``, with
    ``failure_loss="ending"`` those of honest failures only on their last two lines and ``</s>``.

    With ``failure_loss="unsure"`` the labels are those of ``ending`` less the stated value, and
    a third tensor marks that value's position (:func:`failure_value_positions`) for
    :func:`unsure_failure_loss`."""
    input_ids, labels = encode_turns(tokenizer, turns)
    for row, (user, answer) in enumerate(turns):
        if drill_loss == "result" and user == DRILL_PROMPT:
            spans = drill_result_spans(answer)
        elif failure_loss in ("ending", "unsure"):
            spans = failure_ending_spans(user, answer)
        else:
            spans = None
        if spans is not None:
            mask = answer_span_mask(tokenizer, user, answer, spans)
            keep = torch.zeros(labels.shape[1], dtype=torch.bool)
            keep[: len(mask)] = torch.tensor(mask)
            labels[row, ~keep] = IGNORE_INDEX
    if failure_loss != "unsure":
        return input_ids, labels
    unsure = failure_value_positions(tokenizer, turns, labels.shape[1])
    labels[unsure] = IGNORE_INDEX
    return input_ids, labels, unsure


def stated_value_token_ids(tokenizer) -> torch.Tensor:
    """Id of the first token of each value 1-100 as an answer line states it (``▁97`` before
    ``.``, or the merged ``▁28.``): the set the unsure loss spreads its target over."""
    ids = [tokenizer.convert_tokens_to_ids(tokenizer.tokenize(f"The answer is {n}.")[3])
           for n in range(NUMBER_TOKEN_RANGE[0], NUMBER_TOKEN_RANGE[1] + 1)]
    if len(set(ids)) != len(ids):
        raise ValueError("some values 1-100 share a first token: train with --numbers every")
    return torch.tensor(ids)


def unsure_failure_loss(model, input_ids: torch.Tensor, labels: torch.Tensor, unsure: torch.Tensor,
                        number_ids: torch.Tensor) -> torch.Tensor:
    """Next-token cross-entropy on the labelled tokens plus, at each ``unsure`` position,
    cross-entropy to the uniform distribution over ``number_ids`` (``logsumexp(z) - mean(z[S])``,
    ``log |S|`` at best), averaged over both kinds of position together, as the model's own
    loss averages over labelled tokens."""
    logits = model(input_ids=input_ids).logits[:, :-1].float()
    targets, uniform_at = labels[:, 1:], unsure[:, 1:]
    token_loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                                   ignore_index=IGNORE_INDEX, reduction="sum")
    at = logits[uniform_at]
    uniform_loss = (torch.logsumexp(at, dim=-1) - at[:, number_ids].mean(dim=-1)).sum()
    return (token_loss + uniform_loss) / ((targets != IGNORE_INDEX).sum() + uniform_at.sum()).clamp(min=1)


def training_turns(args: argparse.Namespace, excluded: set) -> Iterator[list[tuple[str, str]]]:
    """Endless batches of (user, assistant) turns; example draws use the generators ``(TRAIN_SEED, i)``.

    Each step is a step-check batch with probability ``--check-share``, a vote batch with
    ``--vote-share``, else a solution batch (drawn from a generator of its own, so the kinds
    never collide). Each example first draws its count of numbers from ``--count-weights``; a
    problem of an excluded stream is replaced by the next draw with the same count, so the
    mixture of counts is the one asked for (most 3-number problems recur across streams)."""
    weights = np.asarray(args.count_weights) / sum(args.count_weights)
    kinds = np.random.default_rng([TRAIN_SEED, KIND_STREAM])
    index = 0
    while True:
        draw = kinds.random()
        if draw < args.check_share:
            kind, size = "check", args.judge_batch_size
        elif draw < args.check_share + args.vote_share:
            kind, size = "vote", max(1, args.judge_batch_size // 2)
        elif draw < args.check_share + args.vote_share + args.drill_share:
            kind, size = "drill", max(1, args.batch_size // 2)
        else:
            kind, size = "solve", args.batch_size
        batch: list[tuple[str, str]] = []
        while len(batch) < size:
            rng = np.random.default_rng([TRAIN_SEED, index])
            index += 1
            count = MIN_NUMBERS + int(rng.choice(len(weights), p=weights))
            problem = generate_problem(rng, count)
            while (tuple(sorted(problem.numbers)), problem.target) in excluded:
                rng = np.random.default_rng([TRAIN_SEED, index])
                index += 1
                problem = generate_problem(rng, count)
            if kind == "check":
                example = step_check_example(rng, problem.numbers, problem.target)
                batch.append((example.prompt, example.answer))
            elif kind == "vote":
                example = vote_example(rng, problem.numbers, problem.target)
                batch.append((example.prompt, example.answer))
            elif kind == "drill":
                batch.append((DRILL_PROMPT, drill_answer(rng, args.drill_lines)))
            else:
                failure = honest_failure(rng, problem.numbers, problem.target) if rng.random() < args.failure_rate else None
                batch.append((problem.question, ANSWER_PREFIX + (failure or problem.solution)))
        yield batch


def tokenizer_corpus(every_number: bool = False) -> list[str]:
    """Lines of training text (questions, answers, judge prompts) for SentencePiece.

    With ``every_number`` the corpus also repeats every number of ``NUMBER_TOKEN_RANGE``
    after a space and alone on a line, so that BPE makes each one a single token in both
    places: a step's arithmetic is then one lookup (a, op, b) -> c whatever the result,
    where BPE alone leaves rarer results such as 47 as two digit tokens."""
    lines = [ANSWER_PREFIX.strip()]
    if every_number:
        numbers = [str(n) for n in range(NUMBER_TOKEN_RANGE[0], NUMBER_TOKEN_RANGE[1] + 1)]
        lines += [" " + " ".join(numbers), *numbers] * NUMBER_TOKEN_REPEATS
    for index in range(TOKENIZER_CORPUS_PROBLEMS):
        rng = np.random.default_rng([TRAIN_SEED, 10_000_000 + index])
        problem = generate_problem(rng, int(rng.integers(MIN_NUMBERS, MAX_NUMBERS + 1)))
        lines += [f"Question: {problem.question}", "Answer:", *problem.solution.split("\n")]
        if index % 10 == 0:
            lines += step_check_example(rng, problem.numbers, problem.target).prompt.split("\n")
            lines += vote_example(rng, problem.numbers, problem.target).prompt.split("\n")
    return lines


def write_training_record(out_dir: Path, argv: list[str], args: argparse.Namespace, model, result: TrainingResult) -> None:
    """Write ``TRAINING.md``'s record; a ``## Variants tried`` section already there is kept."""
    path = out_dir / "TRAINING.md"
    kept = ""
    if path.is_file() and VARIANTS_HEADING in path.read_text():
        kept = path.read_text()[path.read_text().index(VARIANTS_HEADING):]
    cap_note = (
        f"**Stopped early by the {args.minutes}-minute cap after {result.steps_done} of {args.steps} steps: "
        "this run is not reproducible step for step.**\n\n" if result.stopped_by_time_cap else ""
    )
    drill_loss_text = ("loss on every answer token" if args.drill_loss == "all"
                       else "loss on each line's result and the closing `</s>` only")
    text = f"""# Training record of this model

{cap_note}Produced by `foresight.models.train_countdown` (the CLI's `foresight build-model countdown`).

- Command: `foresight build-model countdown {" ".join(shlex.quote(a) for a in argv)}`
- Model initialisation seed: {args.seed}; data: the `TRAIN_SEED = {TRAIN_SEED}` stream of
  `foresight.tasks.countdown` ({MIN_NUMBERS} to {MAX_NUMBERS} numbers from 1-9, targets
  {TARGET_RANGE[0]}-{TARGET_RANGE[1]}; problems of the held-out, test and benchmark seeds excluded)
- Mixture: solution batches of {args.batch_size} problems (3, 4, 5 numbers weighted
  {" : ".join(f"{w:g}" for w in args.count_weights)}), {100 * args.failure_rate:.0f}% of their answers honest failures ({FAILURE_LOSSES[args.failure_loss]});
  {100 * args.check_share:.0f}% of the steps a batch of {args.judge_batch_size} step-check prompts (labels
  balanced Correct / Incorrect), {100 * args.vote_share:.0f}% a batch of {max(1, args.judge_batch_size // 2)} vote prompts
  (labels from the exact solver, see `foresight.tasks.countdown_judge`), {100 * args.drill_share:.0f}% a batch of
  {max(1, args.batch_size // 2)} arithmetic drills (`{DRILL_PROMPT}` answered by {args.drill_lines} legal steps `a op b = c`
  with an operand of {DRILL_MIN_OPERAND} or more; {drill_loss_text})
- Tokenizer: SentencePiece BPE; {NUMBER_TOKENIZATIONS[args.numbers]} (`--numbers {args.numbers}`)
- Steps: {result.steps_done}; AdamW (peak lr {args.lr}, warmup {args.warmup_steps}, cosine to lr/10,
  weight decay {args.weight_decay})
{model_record(args, model, result, "answer tokens")}
"""
    path.write_text(text + kept)


def main(argv: list[str] | None = None) -> int:
    """Train the countdown model described by the options and save it to ``--out``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_countdown_arg_parser()
    args = parser.parse_args(argv)
    if (error := mixture_error(args)) is not None:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    tokenizer = build_tokenizer(args.out, args.vocab_size, args.max_positions, tokenizer_corpus(args.numbers == "every"),
                                CHAT_TEMPLATE, split_digits=args.numbers == "digits")
    model = build_model(args, tokenizer)
    print(f"parameters: {sum(p.numel() for p in model.parameters()):,}", flush=True)
    batches = (encode_training_turns(tokenizer, turns, args.drill_loss, args.failure_loss) for turns in training_turns(args, excluded_problems()))
    batch_loss = (partial(unsure_failure_loss, number_ids=stated_value_token_ids(tokenizer)) if args.failure_loss == "unsure"
                  else causal_lm_loss)
    result = train(model, tokenizer, args, batches, batch_loss)
    save_model(args.out, model, tokenizer)
    write_training_record(args.out, argv, args, model, result)
    print(f"saved to {args.out} after {result.steps_done} steps, {result.wall_seconds / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
