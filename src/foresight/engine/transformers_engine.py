"""The in-process engine: a transformers causal LM driven by our own decoding loop.

Why not `model.generate`: we need (1) log-probs under the raw distribution for every sampled
token, (2) one prefill per prompt shared by its n samples (the KV cache is copied, not
recomputed), (3) per-request seeds whose draws do not depend on batch composition, and
(4) finished rows dropped from the batch so long and short samples do not pay for each other.

A call to `generate` is split into chunks of at most `max_batch_size` sample rows; prompts are
sorted by length first so that left padding wastes little.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from foresight.engine.loading import ModelLocation, load_model_and_tokenizer, resolve_model
from foresight.engine.prompts import decode_continuation, encode_prompt, render_chat
from foresight.engine.sampling import row_keys, sample_tokens
from foresight.engine.stopping import StopScreen, first_stop, token_texts
from foresight.engine.types import DEFAULT_BATCH_SIZE, Completion, GenerationRequest, Sample


@dataclass(frozen=True)
class _Unit:
    """A slice of one request's samples that runs in one chunk: samples [start, start+count)."""

    request_index: int
    start: int
    count: int


class TransformersEngine:
    """Batched sampling with exact log-probs from a local checkpoint or GGUF file."""

    def __init__(self, model, tokenizer, model_id: str, max_batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be >= 1, got {max_batch_size}")
        self.model = model
        self.tokenizer = tokenizer
        self.model_id = model_id
        self.max_batch_size = max_batch_size
        self.num_parameters = int(model.num_parameters())
        self.vocab_size = int(model.get_output_embeddings().weight.shape[0])
        self._pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self._eos_ids = self._end_of_sequence_ids()
        self._token_texts = token_texts(tokenizer, self.vocab_size)
        self._screens: dict[tuple[str, ...], StopScreen] = {}

    @classmethod
    def from_spec(cls, spec: str, max_batch_size: int = DEFAULT_BATCH_SIZE) -> "TransformersEngine":
        """Load `spec` (an embedded name, checkpoint directory or .gguf file)."""
        location: ModelLocation = resolve_model(spec)
        model, tokenizer = load_model_and_tokenizer(location)
        return cls(model, tokenizer, location.model_id, max_batch_size)

    # ----- prompts -------------------------------------------------------------------------

    def render_chat(self, messages: Sequence[dict[str, str]]) -> str:
        """The model's own chat template, ending inside a fresh assistant turn."""
        return render_chat(self.tokenizer, messages)

    def encode_prompt(self, prompt: str) -> list[int]:
        """Prompt ids; BOS is added only where the rendered template does not already hold it."""
        return encode_prompt(self.tokenizer, prompt)

    def count_tokens(self, text: str) -> int:
        return len(self.encode_prompt(text))

    # ----- generation ----------------------------------------------------------------------

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        prompt_ids = [self.encode_prompt(request.prompt) for request in requests]
        samples: list[list[Sample | None]] = [[None] * r.n for r in requests]
        prefill_tokens = [0] * len(requests)
        for chunk in self._chunks(requests, prompt_ids):
            for unit, unit_samples in zip(chunk, self._generate_chunk(requests, prompt_ids, chunk)):
                prefill_tokens[unit.request_index] += len(prompt_ids[unit.request_index])
                samples[unit.request_index][unit.start : unit.start + unit.count] = unit_samples
        return [
            Completion(tuple(samples[i]), prompt_tokens=len(prompt_ids[i]), prefill_tokens=prefill_tokens[i])
            for i in range(len(requests))
        ]

    def _chunks(self, requests: Sequence[GenerationRequest], prompt_ids: list[list[int]]):
        """Pack requests, shortest prompts first, into chunks of at most max_batch_size rows;
        a request with more samples than fit is split into several units."""
        order = sorted(range(len(requests)), key=lambda i: len(prompt_ids[i]))
        chunk: list[_Unit] = []
        rows_in_chunk = 0
        for index in order:
            start = 0
            while start < requests[index].n:
                count = min(requests[index].n - start, self.max_batch_size - rows_in_chunk)
                chunk.append(_Unit(index, start, count))
                rows_in_chunk += count
                start += count
                if rows_in_chunk == self.max_batch_size:
                    yield chunk
                    chunk, rows_in_chunk = [], 0
        if chunk:
            yield chunk

    @torch.inference_mode()
    def _generate_chunk(
        self,
        requests: Sequence[GenerationRequest],
        prompt_ids: list[list[int]],
        units: list[_Unit],
    ) -> list[list[Sample]]:
        """Prefill each unit's prompt once, fan the cache out to its samples, decode together."""
        logits, cache, attention, positions = self._prefill([prompt_ids[u.request_index] for u in units])

        unit_of_row = torch.tensor([i for i, u in enumerate(units) for _ in range(u.count)])
        row_requests = [requests[units[i].request_index] for i in unit_of_row.tolist()]
        sample_index = torch.tensor([u.start + k for u in units for k in range(u.count)])
        cache.batch_select_indices(unit_of_row)
        logits, attention, positions = logits[unit_of_row], attention[unit_of_row], positions[unit_of_row]

        num_rows = len(row_requests)
        keys = row_keys(torch.tensor([r.seed for r in row_requests]), sample_index)
        temperature = torch.tensor([r.temperature for r in row_requests], dtype=torch.float32)
        top_p = torch.tensor([r.top_p for r in row_requests], dtype=torch.float32)
        max_tokens = torch.tensor([r.max_tokens for r in row_requests])
        horizon = int(max_tokens.max())
        tokens = torch.full((num_rows, horizon), self._pad_id, dtype=torch.long)
        token_logprobs = torch.zeros((num_rows, horizon), dtype=torch.float32)
        screens = [self._screen(r.stop) for r in row_requests]
        may_stop = self._candidate_table(screens)
        contexts = [prompt_ids[units[i].request_index][-1:] for i in unit_of_row.tolist()]
        finished: list[Sample | None] = [None] * num_rows
        done = torch.zeros(num_rows, dtype=torch.bool)

        live = torch.arange(num_rows)  # global row index of each row present in the batch
        step = 0
        while True:
            next_tokens = sample_tokens(logits, keys[live], step, temperature[live], top_p[live])
            chosen_logprobs = torch.log_softmax(logits.float(), dim=-1).gather(1, next_tokens[:, None])[:, 0]
            tokens[live, step] = next_tokens
            token_logprobs[live, step] = chosen_logprobs

            ended = torch.isin(next_tokens, self._eos_ids)
            stop_candidate = may_stop[live, next_tokens]
            at_length = max_tokens[live] <= step + 1
            for local in (ended | stop_candidate | at_length).nonzero(as_tuple=True)[0].tolist():
                row = int(live[local])
                finished[row] = self._end_of_row(
                    tokens[row, : step + 1].tolist(), token_logprobs[row, : step + 1].tolist(), contexts[row],
                    screens[row], bool(ended[local]), bool(stop_candidate[local]), bool(at_length[local]),
                )
                done[row] = finished[row] is not None

            keep = ~done[live]
            if not bool(keep.any()):
                break
            if not bool(keep.all()):
                kept = keep.nonzero(as_tuple=True)[0]
                cache.batch_select_indices(kept)
                live, next_tokens = live[kept], next_tokens[kept]
                attention, positions = attention[kept], positions[kept]
            attention = torch.cat([attention, torch.ones((len(live), 1), dtype=attention.dtype)], dim=1)
            positions = positions + 1
            output = self.model(
                input_ids=next_tokens[:, None],
                attention_mask=attention,
                position_ids=positions[:, None],
                past_key_values=cache,
                use_cache=True,
            )
            logits = output.logits[:, -1, :]
            step += 1

        per_unit: list[list[Sample]] = [[] for _ in units]
        for row, sample in enumerate(finished):
            assert sample is not None
            per_unit[int(unit_of_row[row])].append(sample)
        return per_unit

    def _prefill(self, prompts: list[list[int]]):
        """Run left-padded prompts once; return last-position logits, the cache, the attention
        mask and each row's last position id."""
        from transformers import DynamicCache

        width = max(len(p) for p in prompts)
        input_ids = torch.full((len(prompts), width), self._pad_id, dtype=torch.long)
        attention = torch.zeros((len(prompts), width), dtype=torch.long)
        for i, ids in enumerate(prompts):
            input_ids[i, width - len(ids):] = torch.tensor(ids)
            attention[i, width - len(ids):] = 1
        position_ids = (attention.cumsum(dim=1) - 1).clamp(min=0)
        cache = DynamicCache()
        output = self.model(
            input_ids=input_ids,
            attention_mask=attention,
            position_ids=position_ids,
            past_key_values=cache,
            use_cache=True,
            logits_to_keep=1,
        )
        return output.logits[:, -1, :], cache, attention, position_ids[:, -1]

    # ----- finishing rows ------------------------------------------------------------------

    def _decode_continuation(self, tokens: list[int], context: list[int]) -> str:
        return decode_continuation(self.tokenizer, tokens, context)

    def _end_of_row(self, tokens: list[int], logprobs: list[float], context: list[int], screen: StopScreen | None,
                    ended: bool, stop_candidate: bool, at_length: bool) -> Sample | None:
        """The row's sample if its latest token ends it (end-of-sequence, a completed stop string,
        or max_tokens), else None."""
        if ended:
            return self._sample(tokens, logprobs, self._decode_continuation(tokens[:-1], context), "stop")
        if stop_candidate and screen is not None:
            text = self._decode_continuation(tokens, context)
            found = first_stop(text, screen.stops)
            if found is not None:
                return self._sample(tokens, logprobs, text[: found[0]], "stop", found[1])
        if at_length:
            return self._sample(tokens, logprobs, self._decode_continuation(tokens, context), "length")
        return None

    @staticmethod
    def _sample(tokens: list[int], logprobs: list[float], text: str, reason: str, stop: str | None = None) -> Sample:
        return Sample(text=text, num_tokens=len(tokens), logprob=float(sum(logprobs)), finish_reason=reason,
                      stop_string=stop, token_ids=tuple(tokens), token_logprobs=tuple(logprobs))

    def _candidate_table(self, screens: list[StopScreen | None]) -> torch.Tensor:
        """[rows, vocab] view: True where that token could complete one of the row's stops."""
        distinct = list({id(s): s for s in screens if s is not None}.values())
        table = torch.zeros((len(distinct) + 1, self.vocab_size), dtype=torch.bool)
        for i, screen in enumerate(distinct, start=1):
            table[i, : len(screen.candidates)] = screen.candidates
        index = [0 if s is None else 1 + next(i for i, d in enumerate(distinct) if d is s) for s in screens]
        return table[torch.tensor(index)]

    def _screen(self, stops: tuple[str, ...]) -> StopScreen | None:
        if not stops:
            return None
        if stops not in self._screens:
            self._screens[stops] = StopScreen(self._token_texts, stops)
        return self._screens[stops]

    def _end_of_sequence_ids(self) -> torch.Tensor:
        configured = self.model.generation_config.eos_token_id
        ids = set(configured if isinstance(configured, list) else [configured]) - {None}
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        return torch.tensor(sorted(ids), dtype=torch.long)
