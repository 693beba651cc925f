"""The in-process engine on the real embedded model."""

import torch

from foresight.engine.types import GenerationRequest


def forward_logprob(engine, prompt: str, token_ids) -> float:
    """Summed log-prob of `token_ids` after `prompt`, from one plain forward pass."""
    prompt_ids = engine.encode_prompt(prompt)
    ids = torch.tensor([prompt_ids + list(token_ids)])
    with torch.no_grad():
        logprobs = engine.model(ids).logits[0].float().log_softmax(-1)
    return sum(logprobs[len(prompt_ids) - 1 + i, t].item() for i, t in enumerate(token_ids))


def test_summed_logprobs_match_a_separate_forward_pass(arith_engine, arith_prompt):
    (greedy, sampled) = arith_engine.generate([
        GenerationRequest(arith_prompt, n=1, temperature=0.0, max_tokens=80, seed=1),
        GenerationRequest(arith_prompt, n=3, temperature=1.3, max_tokens=80, seed=2),
    ])
    for sample in greedy.samples + sampled.samples:
        assert sample.num_tokens == len(sample.token_ids) == len(sample.token_logprobs)
        assert abs(sample.logprob - forward_logprob(arith_engine, arith_prompt, sample.token_ids)) < 1e-4


def test_stop_string_ends_the_sample_and_is_excluded(arith_engine, arith_prompt):
    (completion,) = arith_engine.generate([GenerationRequest(arith_prompt, n=4, temperature=1.0, max_tokens=60, stop=("\n",), seed=3)])
    for sample in completion.samples:
        assert sample.finish_reason == "stop" and sample.stop_string == "\n" and not sample.ended_sequence
        assert "\n" not in sample.text and sample.text
        full = arith_engine.tokenizer.decode(list(sample.token_ids))
        assert full.startswith(sample.text) and full[len(sample.text):].startswith("\n")


def test_multi_character_stop_string(arith_engine, arith_prompt):
    (completion,) = arith_engine.generate([GenerationRequest(arith_prompt, n=2, temperature=0.0, max_tokens=200, stop=("The answer",), seed=3)])
    for sample in completion.samples:
        assert sample.finish_reason == "stop"
        assert "The answer" not in sample.text and sample.text.endswith("\n")


def test_max_tokens_and_end_of_sequence(arith_engine, arith_prompt):
    short, full = arith_engine.generate([
        GenerationRequest(arith_prompt, n=1, temperature=0.0, max_tokens=5, seed=0),
        GenerationRequest(arith_prompt, n=1, temperature=0.0, max_tokens=300, seed=0),
    ])
    assert short.samples[0].finish_reason == "length" and short.samples[0].num_tokens == 5
    ending = full.samples[0]
    assert ending.finish_reason == "stop" and ending.ended_sequence
    assert ending.token_ids[-1] == arith_engine.tokenizer.eos_token_id
    assert ending.text.rstrip().endswith(".") and "</s>" not in ending.text
    assert full.samples[0].text.startswith(short.samples[0].text)


def test_seed_reproduces_and_different_seeds_differ(arith_engine, arith_prompt):
    request = GenerationRequest(arith_prompt, n=6, temperature=1.0, max_tokens=120, seed=42)
    first = arith_engine.generate([request])[0]
    again = arith_engine.generate([request])[0]
    other = arith_engine.generate([GenerationRequest(arith_prompt, n=6, temperature=1.0, max_tokens=120, seed=43)])[0]
    assert [s.text for s in first.samples] == [s.text for s in again.samples]
    assert [s.text for s in first.samples] != [s.text for s in other.samples]
    assert len({s.text for s in first.samples}) > 1


def test_batch_composition_does_not_change_samples(arith_engine, arith_prompt):
    other_prompt = arith_prompt.replace("Question:", "Question: ", 1)
    alone = arith_engine.generate([GenerationRequest(arith_prompt, n=3, temperature=1.0, max_tokens=120, seed=9)])[0]
    mixed = arith_engine.generate([
        GenerationRequest(other_prompt, n=5, temperature=0.7, max_tokens=40, seed=1),
        GenerationRequest(arith_prompt, n=3, temperature=1.0, max_tokens=120, seed=9),
    ])[1]
    assert [s.text for s in alone.samples] == [s.text for s in mixed.samples]
    for a, b in zip(alone.samples, mixed.samples):
        assert abs(a.logprob - b.logprob) < 1e-4


def test_prefill_runs_once_per_prompt_and_splits_across_chunks(arith_engine, arith_prompt):
    (completion,) = arith_engine.generate([GenerationRequest(arith_prompt, n=8, temperature=1.0, max_tokens=20, seed=5)])
    assert completion.prefill_tokens == completion.prompt_tokens == arith_engine.count_tokens(arith_prompt)
    old = arith_engine.max_batch_size
    arith_engine.max_batch_size = 3
    try:
        (split,) = arith_engine.generate([GenerationRequest(arith_prompt, n=8, temperature=1.0, max_tokens=20, seed=5)])
    finally:
        arith_engine.max_batch_size = old
    assert split.prefill_tokens == 3 * split.prompt_tokens  # 8 samples in chunks of 3, 3, 2
    assert [s.text for s in split.samples] == [s.text for s in completion.samples]


def test_chat_template_continues_inside_the_assistant_turn(arith_engine):
    prompt = arith_engine.render_chat([{"role": "user", "content": "Mia has 3 pens."}])
    assert prompt.rstrip("\n").endswith("Answer:") and "Mia has 3 pens." in prompt
