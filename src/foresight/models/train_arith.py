"""Train the embedded default model: a tiny LLaMA-architecture model for the ``arith`` task.

The model is deliberately small and briefly trained so that it stays *imperfect in a way
search can help*: it knows several valid orders for applying a problem's events (see
:mod:`foresight.tasks.arith`), its greedy answer is often wrong, and its samples take
different paths, so self-consistency, likelihood ranking and step-level look-ahead have
room to improve on greedy decoding.

What the program does, all on CPU with one thread:

1. trains a SentencePiece BPE tokenizer (byte fallback, one token per digit, no dummy
   prefix) on text from the ``TRAIN_SEED`` stream and wraps it as a transformers
   ``LlamaTokenizer`` carrying the task's chat template;
2. builds a ``LlamaForCausalLM`` from a ``LlamaConfig`` and trains it with AdamW and a
   linear-warmup cosine schedule for a fixed number of steps, each batch made of fresh
   problems of the ``TRAIN_SEED`` stream (never repeated, so there are no epochs to
   overfit), with the loss on the assistant part only (solution and ``</s>``);
3. saves the model (safetensors), tokenizer, ``generation_config.json`` and a
   ``TRAINING.md`` recording the command, seed, wall time, parameter count and final loss.

Given the same arguments the run is deterministic: data come from fixed seeds, the model
initialisation from ``--seed`` and the length of training from ``--steps``. ``--minutes``
is only a safety cap; if it stops training early, ``TRAINING.md`` says so.

The shipped model in ``foresight/models/arith`` was produced by the defaults::

    python -m foresight.models.train_arith --out src/foresight/models/arith
"""

from __future__ import annotations

import argparse
import math
import platform
import shlex
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sentencepiece as spm
import torch
import transformers
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, LlamaTokenizer
from transformers.tokenization_utils_base import generate_merges

from foresight.tasks.arith import (
    BENCHMARK_SEED,
    HELDOUT_SEED,
    MAX_STEPS,
    MIN_STEPS,
    TEST_SEED,
    TRAIN_SEED,
    ArithProblem,
    generate_problem,
    make_problems,
)

# The model has no system slot: system messages are ignored. A user turn renders as
# "Question: ...\n", an assistant turn as "Answer:\n...</s>"; the generation prompt is
# "Answer:\n". The tokenizer adds <s> in front when encoding.
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{#- This model has no system slot: system messages are ignored. -#}"
    "{%- if message['role'] == 'user' -%}"
    "{{ 'Question: ' + message['content'] + '\\n' }}"
    "{%- elif message['role'] == 'assistant' -%}"
    "{{ 'Answer:\\n' + message['content'] + '</s>' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{ 'Answer:\\n' }}"
    "{%- endif -%}"
)

# Every training answer opens with the line φ-Decoding puts before the first step
# (foresight.strategies.phi.STEP_PREFIX), so that step-level search starts in-distribution.
ANSWER_PREFIX = "The reasoning steps are:\n\n"

TOKENIZER_CORPUS_PROBLEMS = 4000
EXCLUDED_SEEDS = (HELDOUT_SEED, TEST_SEED, BENCHMARK_SEED)
EXCLUDED_PROBLEMS_PER_SEED = 1000
MAX_NEW_TOKENS = 160
LOG_EVERY = 100
IGNORE_INDEX = -100


@dataclass(frozen=True)
class TrainingResult:
    """What a training run did, for ``TRAINING.md``."""

    steps_done: int
    wall_seconds: float
    final_loss: float
    stopped_by_time_cap: bool


def build_arg_parser() -> argparse.ArgumentParser:
    """Command-line options; the defaults reproduce the shipped model."""
    parser = argparse.ArgumentParser(
        prog="foresight build-arith-model",
        description="Train the tiny LLaMA model for the arith task on CPU and save it.",
    )
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--seed", type=int, default=0, help="seed of the model initialisation")
    parser.add_argument("--steps", type=int, default=2100, help="optimizer steps")
    parser.add_argument("--batch-size", type=int, default=32, help="problems per step")
    parser.add_argument("--lr", type=float, default=3e-3, help="peak learning rate")
    parser.add_argument("--warmup-steps", type=int, default=200, help="linear warmup steps")
    parser.add_argument("--weight-decay", type=float, default=0.01, help="AdamW weight decay")
    parser.add_argument("--vocab-size", type=int, default=512, help="SentencePiece vocabulary size")
    parser.add_argument("--hidden-size", type=int, default=128, help="model width")
    parser.add_argument("--intermediate-size", type=int, default=384, help="MLP width")
    parser.add_argument("--num-layers", type=int, default=2, help="transformer layers")
    parser.add_argument("--num-heads", type=int, default=4, help="attention heads")
    parser.add_argument("--max-positions", type=int, default=512, help="maximum sequence length")
    parser.add_argument("--minutes", type=float, default=20.0, help="wall-time cap (stops early)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    return parser


def tokenizer_corpus() -> list[str]:
    """Text lines for SentencePiece training: prompts and solution lines of training problems.

    SentencePiece reads one sentence per line, so newlines never enter the vocabulary and
    are encoded with the byte-fallback token ``<0x0A>``, as in LLaMA.
    """
    lines: list[str] = [ANSWER_PREFIX.strip()]
    for problem in make_problems(TRAIN_SEED, TOKENIZER_CORPUS_PROBLEMS):
        lines.append(f"Question: {problem.question}")
        lines.append("Answer:")
        lines.extend(problem.solution.split("\n"))
    return lines


def build_tokenizer(out_dir: Path, vocab_size: int, max_positions: int, corpus: list[str] | None = None,
                    chat_template: str = CHAT_TEMPLATE, split_digits: bool = True) -> LlamaTokenizer:
    """Train ``out_dir/tokenizer.model`` on ``corpus`` (default: :func:`tokenizer_corpus`) and
    wrap it as a transformers ``LlamaTokenizer`` carrying ``chat_template``; ``split_digits=False``
    lets BPE merge digits, so frequent numbers become single tokens.

    The SentencePiece model is BPE with byte fallback, split digits and no dummy prefix
    (so decoding the ids that follow a prompt gives the text exactly, without a leading
    space); ``<unk>``, ``<s>``, ``</s>`` have the standard LLaMA ids 0, 1, 2, and ``</s>``
    doubles as the padding token (prompts are padded on the left for batched generation).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(tokenizer_corpus() if corpus is None else corpus),
        model_prefix=str(out_dir / "tokenizer"),
        model_type="bpe",
        vocab_size=vocab_size,
        byte_fallback=True,
        split_digits=split_digits,
        add_dummy_prefix=False,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        character_coverage=1.0,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        num_threads=1,
        minloglevel=2,
    )
    (out_dir / "tokenizer.vocab").unlink()
    processor = spm.SentencePieceProcessor(model_file=str(out_dir / "tokenizer.model"))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    vocab = {piece: i for i, piece in enumerate(pieces)}
    scores = {piece: processor.get_score(i) for i, piece in enumerate(pieces)}
    return LlamaTokenizer(
        vocab=vocab,
        merges=generate_merges(vocab, scores),
        add_prefix_space=False,
        legacy=False,
        add_bos_token=True,
        add_eos_token=False,
        pad_token="</s>",
        model_max_length=max_positions,
        chat_template=chat_template,
    )


def excluded_questions() -> set[str]:
    """Question texts of the evaluation, test and benchmark streams, kept out of training."""
    questions: set[str] = set()
    for seed in EXCLUDED_SEEDS:
        for min_steps in (MIN_STEPS, 4):
            problems = make_problems(seed, EXCLUDED_PROBLEMS_PER_SEED, min_steps, MAX_STEPS)
            questions.update(problem.question for problem in problems)
    return questions


def training_problems(batch_size: int, excluded: set[str]) -> Iterator[list[ArithProblem]]:
    """Endless batches of fresh problems from the ``TRAIN_SEED`` stream (2 to 8 steps).

    Problem ``i`` is drawn from a generator seeded with ``(TRAIN_SEED, i)``, exactly as in
    :func:`make_problems`, so the stream is reproducible and disjoint from the other seeds.
    """
    index = 0
    while True:
        batch: list[ArithProblem] = []
        while len(batch) < batch_size:
            rng = np.random.default_rng([TRAIN_SEED, index])
            problem = generate_problem(rng, int(rng.integers(MIN_STEPS, MAX_STEPS + 1)))
            index += 1
            if problem.question not in excluded:
                batch.append(problem)
        yield batch


def encode_batch(tokenizer: LlamaTokenizer, problems: list[ArithProblem]) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids and labels for ``bos + chat(user: question, assistant: ANSWER_PREFIX + solution)``."""
    return encode_turns(tokenizer, [(p.question, ANSWER_PREFIX + p.solution) for p in problems])


def encode_turns(tokenizer: LlamaTokenizer, turns: list[tuple[str, str]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids and labels for ``bos + chat(user: u, assistant: a)`` for each ``(u, a)``.

    Labels are ``-100`` on the prompt (``<s>Question: ...\\nAnswer:\\n``) and on right
    padding, so the loss covers the answer and its ``</s>`` only.
    """
    prompts = [
        tokenizer.apply_chat_template([{"role": "user", "content": user}], add_generation_prompt=True, tokenize=False)
        for user, _ in turns
    ]
    full = [
        tokenizer.apply_chat_template(
            [{"role": "user", "content": user}, {"role": "assistant", "content": answer}], tokenize=False
        )
        for user, answer in turns
    ]
    prompt_lengths = [len(ids) for ids in tokenizer(prompts)["input_ids"]]
    sequences = tokenizer(full)["input_ids"]
    width = max(len(ids) for ids in sequences)
    input_ids = torch.full((len(sequences), width), tokenizer.eos_token_id, dtype=torch.long)
    labels = torch.full((len(sequences), width), IGNORE_INDEX, dtype=torch.long)
    for row, (ids, prompt_length) in enumerate(zip(sequences, prompt_lengths)):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        labels[row, prompt_length : len(ids)] = torch.tensor(ids[prompt_length:])
    return input_ids, labels


def build_model(args: argparse.Namespace, tokenizer: LlamaTokenizer) -> LlamaForCausalLM:
    """A freshly initialised LLaMA model with tied embeddings, seeded by ``--seed``."""
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=args.hidden_size,
        intermediate_size=args.intermediate_size,
        num_hidden_layers=args.num_layers,
        num_attention_heads=args.num_heads,
        num_key_value_heads=args.num_heads,
        max_position_embeddings=args.max_positions,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(args.seed)
    return LlamaForCausalLM(config)


def learning_rate(step: int, args: argparse.Namespace) -> float:
    """Linear warmup to ``--lr``, then cosine decay to a tenth of it at ``--steps``."""
    if step < args.warmup_steps:
        return args.lr * (step + 1) / args.warmup_steps
    progress = (step - args.warmup_steps) / max(1, args.steps - args.warmup_steps)
    return args.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress)))


def causal_lm_loss(model: LlamaForCausalLM, input_ids: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The model's own next-token cross-entropy, averaged over the labelled tokens."""
    return model(input_ids=input_ids, labels=labels).loss


def train(model: LlamaForCausalLM, tokenizer: LlamaTokenizer, args: argparse.Namespace,
          batches: Iterator[tuple[torch.Tensor, ...]] | None = None,
          batch_loss: Callable[..., torch.Tensor] = causal_lm_loss) -> TrainingResult:
    """The training loop: AdamW on fresh batches (default: arith problems as (input ids,
    labels)), each scored by ``batch_loss(model, *batch)``, logging the mean loss every
    ``LOG_EVERY`` steps."""
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr,
        betas=(0.9, 0.98),
    )
    model.train()
    if batches is None:
        batches = (encode_batch(tokenizer, problems) for problems in training_problems(args.batch_size, excluded_questions()))
    start = time.monotonic()
    recent: list[float] = []
    step = 0
    stopped_by_time_cap = False
    while step < args.steps:
        if time.monotonic() - start > args.minutes * 60:
            stopped_by_time_cap = True
            break
        batch = next(batches)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, args)
        loss = batch_loss(model, *batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        recent = (recent + [loss.item()])[-LOG_EVERY:]
        step += 1
        if step % LOG_EVERY == 0:
            elapsed = time.monotonic() - start
            print(f"step {step:6d}  loss {sum(recent) / len(recent):.4f}  lr {learning_rate(step - 1, args):.2e}  {elapsed:7.1f}s", flush=True)
    model.eval()
    return TrainingResult(step, time.monotonic() - start, sum(recent) / max(1, len(recent)), stopped_by_time_cap)


def write_training_record(out_dir: Path, argv: list[str], args: argparse.Namespace, model: LlamaForCausalLM, result: TrainingResult) -> None:
    """Write ``TRAINING.md``: how the model in ``out_dir`` was produced."""
    options = " ".join(shlex.quote(a) for a in argv)
    cap_note = (
        f"**Stopped early by the {args.minutes}-minute cap after {result.steps_done} of {args.steps} steps: "
        "this run is not reproducible step for step.**\n\n"
        if result.stopped_by_time_cap
        else ""
    )
    text = f"""# Training record of this model

{cap_note}Produced by `foresight.models.train_arith` (wired to the CLI as `foresight build-arith-model`).

- Command: `python -m foresight.models.train_arith {options}`
- Model initialisation seed: {args.seed}; data: the `TRAIN_SEED = {TRAIN_SEED}` stream of
  `foresight.tasks.arith` (problems of {MIN_STEPS} to {MAX_STEPS} steps, questions of the
  held-out, test and benchmark seeds excluded)
- Steps: {result.steps_done} x {args.batch_size} fresh problems; AdamW (peak lr {args.lr}, warmup
  {args.warmup_steps}, cosine to lr/10, weight decay {args.weight_decay})
{model_record(args, model, result, "solution tokens")}"""
    (out_dir / "TRAINING.md").write_text(text)


def model_record(args: argparse.Namespace, model: LlamaForCausalLM, result: TrainingResult, loss_tokens: str) -> str:
    """The ``TRAINING.md`` lines on architecture, size, final loss, wall time and software."""
    num_params = sum(p.numel() for p in model.parameters())
    return f"""- Architecture: LLaMA, {args.num_layers} layers, hidden {args.hidden_size}, MLP {args.intermediate_size},
  {args.num_heads} heads, vocabulary {len(model.get_input_embeddings().weight)}, tied embeddings
- Parameters: {num_params:,}
- Final training loss (mean of the last {min(LOG_EVERY, result.steps_done)} steps, {loss_tokens}): {result.final_loss:.4f}
- Wall time: {result.wall_seconds / 60:.1f} min on {args.threads} CPU thread(s) ({platform.processor() or platform.machine()})
- Software: Python {platform.python_version()}, torch {torch.__version__}, transformers {transformers.__version__}
"""


def main(argv: list[str] | None = None) -> int:
    """Train the model described by the command-line options and save it to ``--out``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_arg_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    tokenizer = build_tokenizer(args.out, args.vocab_size, args.max_positions)
    model = build_model(args, tokenizer)
    print(f"parameters: {sum(p.numel() for p in model.parameters()):,}", flush=True)
    result = train(model, tokenizer, args)
    save_model(args.out, model, tokenizer)
    write_training_record(args.out, argv, args, model, result)
    print(f"saved to {args.out} after {result.steps_done} steps, {result.wall_seconds / 60:.1f} min", flush=True)
    return 0


def save_model(out: Path, model: LlamaForCausalLM, tokenizer: LlamaTokenizer) -> None:
    """Weights (safetensors), tokenizer with its chat template, and a greedy generation config."""
    model.save_pretrained(out)
    tokenizer.save_pretrained(out, save_jinja_files=False)  # chat template inside tokenizer_config.json
    GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.eos_token_id,
        do_sample=False,
        max_new_tokens=MAX_NEW_TOKENS,
    ).save_pretrained(out)


if __name__ == "__main__":
    raise SystemExit(main())
