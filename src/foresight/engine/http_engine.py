"""An engine over OpenAI-compatible `/v1/completions` servers (llama-server, vLLM, SGLang).

The prompt goes out as raw text, rendered locally with the model's own chat template, so the
server sees exactly what the in-process engine would. Requests run concurrently (asyncio and
httpx, at most `concurrency` in flight), each to the least-loaded of the given servers; a
refused connection, a timeout, HTTP 429 or 5xx is retried with doubling delays, and after the
last attempt the run stops with an error naming the server.

What the engine makes sure of, because strategies depend on it:
- every request gets all n samples: a server that returns fewer choices than asked (one that
  ignores `n`) is detected, and the missing samples are fetched one request each, with the
  seeds the server would have used (`completions_api.sample_seed`);
- every sample carries the log-prob of every generated token, including the one that completed
  a stop string or ended the sequence; a server that omits log-probs stops the run;
- `stop_string` names the stop that ended a sample: from the server when it says (vLLM's
  `stop_reason`), otherwise derived by decoding the generated token ids locally and finding the
  earliest stop string in that text (the server stopped at the first one it completed).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Coroutine, Sequence, TypeVar

import httpx

from foresight.engine.completions_api import StreamedChoice, StreamedCompletion, request_body
from foresight.engine.prompts import adds_special_tokens, decode_continuation, encode_prompt, render_chat
from foresight.engine.stopping import first_stop
from foresight.engine.types import Completion, GenerationRequest, Sample
from foresight.errors import ConfigError, ServerError

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: Fields added to every request, by the server's kind (`owned_by` in /v1/models), so that
#: `temperature` and `top_p` mean what they mean everywhere else and every sample carries its
#: token ids. llama-server applies top-k 40 and min-p 0.05 unless told otherwise. vLLM's server
#: fills unset sampling fields from the model's generation_config.json (a top_k or
#: repetition_penalty there would apply silently) and sends generated token ids only when asked.
SERVER_EXTRA_BODY: dict[str, dict[str, Any]] = {
    "llamacpp": {"top_k": 0, "min_p": 0.0, "cache_prompt": True},
    "vllm": {"top_k": 0, "min_p": 0.0, "repetition_penalty": 1.0, "return_token_ids": True},
}


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one request: attempts in all, first delay (doubling), per-read timeout."""

    attempts: int = 4
    delay: float = 0.5
    timeout: float = 600.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ConfigError(f"retry attempts must be at least 1, got {self.attempts}")
        if self.delay < 0 or self.timeout <= 0:
            raise ConfigError(f"retry delay must be >= 0 and timeout > 0, got {self.delay} and {self.timeout}")


@dataclass
class Server:
    """One base URL and what we learned about it."""

    url: str
    model: str
    kind: str  # `owned_by` of its model: "llamacpp", "vllm", or whatever another server says
    max_n: int | None = None  # llama-server cannot run more samples of one request than it has slots
    honours_n: bool = True
    in_flight: int = 0
    failures: int = 0  # consecutive; a failing server is tried last


class _Retriable(Exception):
    """A failure worth another attempt (connection, timeout, 429, 5xx, cut stream)."""


def normalize_url(url: str) -> str:
    """`http://host:port`, `http://host:port/` and `http://host:port/v1` name the same server."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"--server '{url}': give a URL starting with http:// or https://")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def probe_server(url: str, retry: RetryPolicy) -> dict[str, Any]:
    """The server's model entry from `/v1/models` (waits, with retries, while it is starting),
    plus `total_slots` from `/props` for llama-server."""
    last: str = ""
    with httpx.Client(timeout=httpx.Timeout(retry.timeout, connect=10.0)) as client:
        for attempt in range(retry.attempts):
            try:
                response = client.get(f"{url}/v1/models")
                if response.status_code == 200:
                    models = response.json().get("data") or []
                    if not models:
                        raise ServerError(f"server {url} lists no model at /v1/models")
                    info = dict(models[0])
                    if info.get("owned_by") == "llamacpp":
                        props = client.get(f"{url}/props")
                        if props.status_code == 200:
                            info["total_slots"] = props.json().get("total_slots")
                    return info
                if response.status_code != 429 and response.status_code < 500:
                    raise ServerError(f"server {url} answered /v1/models with HTTP {response.status_code}")
                last = f"HTTP {response.status_code}"
            except (httpx.TransportError, json.JSONDecodeError) as exc:
                last = _describe(exc)
            if attempt + 1 < retry.attempts:
                time.sleep(retry.delay * 2**attempt)
    raise ServerError(f"server {url} is not reachable after {retry.attempts} attempts ({last})")


class HttpEngine:
    """Sampling with log-probs from one or more OpenAI-compatible completion servers."""

    def __init__(self, servers: Sequence[Server], tokenizer, model_id: str, num_parameters: int,
                 *, concurrency: int = 16, retry: RetryPolicy = RetryPolicy()) -> None:
        if not servers:
            raise ConfigError("the HTTP engine needs at least one server URL")
        if concurrency < 1:
            raise ConfigError(f"--concurrency must be at least 1, got {concurrency}")
        self.servers = list(servers)
        self.tokenizer = tokenizer
        self.model_id = model_id
        self.num_parameters = num_parameters
        self.concurrency = concurrency
        self.retry = retry
        limits = [s.max_n for s in self.servers if s.max_n]
        self._max_n = min(limits) if limits else None
        self._loop = _LoopThread()
        self._client: httpx.AsyncClient | None = None
        self._limit: asyncio.Semaphore | None = None

    @classmethod
    def connect(cls, urls: Sequence[str], tokenizer, *, num_parameters: int | None = None,
                concurrency: int = 16, retry: RetryPolicy = RetryPolicy(),
                count_local: Callable[[], int] | None = None) -> "HttpEngine":
        """Probe every server, check they serve one model that fits `tokenizer`, and connect.

        The parameter count (for FLOPs) is `num_parameters` if given, else what the servers
        report (llama-server's `meta.n_params`), else `count_local()` (the local model files).
        """
        servers, infos = [], []
        for url in dict.fromkeys(normalize_url(u) for u in urls):
            info = probe_server(url, retry)
            kind = str(info.get("owned_by") or "")
            servers.append(Server(url, str(info["id"]), kind, max_n=info.get("total_slots") if kind == "llamacpp" else None))
            infos.append(info)
        models = {s.model for s in servers}
        if len(models) > 1:
            listing = ", ".join(f"{s.url} serves '{s.model}'" for s in servers)
            raise ConfigError(f"--server URLs must serve one model: {listing}")
        for server, info in zip(servers, infos):
            # a model's vocabulary may be padded beyond its tokenizer's, never the reverse
            vocab = (info.get("meta") or {}).get("n_vocab")
            if vocab is not None and len(tokenizer) > vocab:
                raise ConfigError(
                    f"server {server.url}: its model has a vocabulary of {vocab} tokens but the local "
                    f"tokenizer has {len(tokenizer)}; give the served model's tokenizer with --model or --tokenizer"
                )
        if num_parameters is None:
            counts = {(info.get("meta") or {}).get("n_params") for info in infos} - {None}
            if len(counts) == 1:
                num_parameters = int(counts.pop())
            elif count_local is not None:
                num_parameters = count_local()
            else:
                raise ConfigError(
                    f"server {servers[0].url} does not report its parameter count; give --num-parameters for FLOPs accounting"
                )
        return cls(servers, tokenizer, servers[0].model, num_parameters, concurrency=concurrency, retry=retry)

    # ----- prompts (local tokenizer) -------------------------------------------------------

    def render_chat(self, messages: Sequence[dict[str, str]]) -> str:
        return render_chat(self.tokenizer, messages)

    def count_tokens(self, text: str) -> int:
        return len(encode_prompt(self.tokenizer, text))

    # ----- generation ----------------------------------------------------------------------

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        return self._loop.run(self._generate(list(requests)))

    def close(self) -> None:
        """Close connections and stop the engine's event-loop thread."""
        if self._client is not None:
            self._loop.run(self._client.aclose())
        self._loop.close()

    async def _generate(self, requests: list[GenerationRequest]) -> list[Completion]:
        if self._client is None:
            timeout = httpx.Timeout(self.retry.timeout, connect=min(10.0, self.retry.timeout))
            self._client = httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=self.concurrency))
            self._limit = asyncio.Semaphore(self.concurrency)
        return await _all_or_nothing([self._complete(request) for request in requests])

    async def _complete(self, request: GenerationRequest) -> Completion:
        """All samples of one request, in chunks of at most the servers' slot count."""
        step = self._max_n or request.n
        parts = await _all_or_nothing(
            [self._samples(request, start, min(step, request.n - start)) for start in range(0, request.n, step)]
        )
        samples = [sample for part, _, _ in parts for sample in part]
        return Completion(tuple(samples), prompt_tokens=parts[0][1], prefill_tokens=sum(p[2] for p in parts))

    async def _samples(self, request: GenerationRequest, start: int, count: int) -> tuple[list[Sample], int, int]:
        """Samples [start, start + count) with (prompt tokens, prefill tokens) of the calls made."""
        if count > 1 and not any(s.honours_n for s in self.servers):
            return await self._one_by_one(request, range(start, start + count))
        response, server = await self._post(request, start, count)
        prompt_tokens = response.prompt_tokens or self.count_tokens(request.prompt)
        prefill = prompt_tokens - response.cached_tokens
        by_index = {i: c for i, c in response.choices.items() if i < count}
        missing = [start + i for i in range(count) if i not in by_index]
        if missing and count > 1 and server.honours_n:
            logger.warning("server %s returned %d of %d samples asked with n; asking for one sample per request there",
                           server.url, len(by_index), count)
            server.honours_n = False
        if missing and count == 1:
            raise ServerError(f"server {server.url} returned no completion for a request")
        self._check_token_counts(server, response, by_index)
        samples = {start + i: self._sample(server, request, choice) for i, choice in by_index.items()}
        if missing:
            extra, _, extra_prefill = await self._one_by_one(request, missing)
            samples |= dict(zip(missing, extra))
            prefill += extra_prefill
        return [samples[i] for i in range(start, start + count)], prompt_tokens, prefill

    async def _one_by_one(self, request: GenerationRequest, indices: Sequence[int]) -> tuple[list[Sample], int, int]:
        parts = await _all_or_nothing([self._samples(request, i, 1) for i in indices])
        return [p[0][0] for p in parts], parts[0][1], sum(p[2] for p in parts)

    # ----- transport -----------------------------------------------------------------------

    async def _post(self, request: GenerationRequest, start: int, count: int) -> tuple[StreamedCompletion, Server]:
        """One streamed call, retried with backoff on retriable failures (on any server)."""
        assert self._limit is not None
        tried: list[str] = []
        last = ""
        async with self._limit:
            for attempt in range(self.retry.attempts):
                server = self._pick(count)
                tried.append(server.url)
                server.in_flight += count
                try:
                    response = await self._stream(server, self._body(server, request, start, count))
                    server.failures = 0
                    return response, server
                except _Retriable as exc:
                    server.failures += 1
                    last = str(exc)
                finally:
                    server.in_flight -= count
                if attempt + 1 < self.retry.attempts:
                    await asyncio.sleep(self.retry.delay * 2**attempt)
        names = ", ".join(dict.fromkeys(tried))
        raise ServerError(f"server {names} failed {self.retry.attempts} attempts at /v1/completions (last: {last})")

    def _body(self, server: Server, request: GenerationRequest, start: int, count: int) -> dict[str, Any]:
        """The request body for `server`: vLLM tokenizes the prompt text itself, so it is told
        whether to add BOS by the rule the local token counts follow."""
        body = request_body(server.model, request, start, count, SERVER_EXTRA_BODY.get(server.kind, {}))
        if server.kind == "vllm":
            body["add_special_tokens"] = adds_special_tokens(self.tokenizer, request.prompt)
        return body

    def _pick(self, count: int) -> Server:
        """The least-loaded server, healthy ones first; for n > 1 only those that honour n."""
        candidates = [s for s in self.servers if s.honours_n or count == 1] or self.servers
        return min(candidates, key=lambda s: (s.failures > 0, s.in_flight))

    async def _stream(self, server: Server, body: dict[str, Any]) -> StreamedCompletion:
        assert self._client is not None
        result = StreamedCompletion()
        try:
            async with self._client.stream("POST", f"{server.url}/v1/completions", json=body) as response:
                if response.status_code != 200:
                    detail = " ".join((await response.aread()).decode(errors="replace").split())[:300]
                    if response.status_code == 429 or response.status_code >= 500:
                        raise _Retriable(f"HTTP {response.status_code}: {detail}")
                    raise ServerError(f"server {server.url} rejected a completion request: HTTP {response.status_code}: {detail}")
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[len("data:"):].strip()
                    if data == "[DONE]":
                        break
                    event = json.loads(data)
                    if "error" in event:
                        raise _Retriable(f"error in stream: {event['error']}")
                    result.absorb(event)
        except httpx.TransportError as exc:
            raise _Retriable(_describe(exc)) from exc
        except json.JSONDecodeError as exc:
            raise ServerError(f"server {server.url} sent a stream event that is not JSON: {exc}") from exc
        if not result.choices or any(c.finish_reason is None for c in result.choices.values()):
            raise _Retriable("the stream ended before the completion finished")
        return result

    # ----- turning choices into samples ----------------------------------------------------

    @staticmethod
    def _check_token_counts(server: Server, response: StreamedCompletion, choices: dict[int, StreamedChoice]) -> None:
        """Every generated token must have its log-prob, or summed log-probs would be wrong."""
        for choice in choices.values():
            if not choice.token_logprobs:
                raise ServerError(
                    f"server {server.url} returned no log-probs; foresight needs the log-prob of every "
                    "generated token (the `logprobs` field of /v1/completions)"
                )
            if choice.completion_tokens is not None and choice.completion_tokens != len(choice.token_logprobs):
                raise ServerError(
                    f"server {server.url} returned log-probs for {len(choice.token_logprobs)} of "
                    f"{choice.completion_tokens} generated tokens (llama-server omits tokens that end inside "
                    "a multi-byte character); the sample's summed log-prob would be wrong"
                )
        if response.completion_tokens is not None and len(choices) == len(response.choices):
            given = sum(len(c.token_logprobs) for c in choices.values())
            if given != response.completion_tokens:
                raise ServerError(
                    f"server {server.url} returned log-probs for {given} of {response.completion_tokens} generated tokens"
                )

    def _sample(self, server: Server, request: GenerationRequest, choice: StreamedChoice) -> Sample:
        if choice.finish_reason not in ("stop", "length"):
            raise ServerError(f"server {server.url} ended a sample with finish_reason '{choice.finish_reason}'")
        stop = None
        if choice.finish_reason == "stop" and request.stop:
            stop = self._stop_string(request, choice)
        return Sample(
            text=choice.text,
            num_tokens=len(choice.token_logprobs),
            logprob=float(sum(choice.token_logprobs)),
            finish_reason=choice.finish_reason,
            stop_string=stop,
            token_ids=tuple(choice.token_ids),
            token_logprobs=tuple(choice.token_logprobs),
        )

    def _stop_string(self, request: GenerationRequest, choice: StreamedChoice) -> str | None:
        """Which stop string ended the sample; None when it ended at end-of-sequence."""
        if isinstance(choice.stop_reason, str) and choice.stop_reason in request.stop:
            return choice.stop_reason
        if choice.token_ids:
            context = encode_prompt(self.tokenizer, request.prompt)[-1:]
            generated = decode_continuation(self.tokenizer, choice.token_ids, context, skip_special=True)
        else:
            generated = "".join(choice.token_texts)
        found = first_stop(generated, request.stop)
        return found[1] if found is not None else None


async def _all_or_nothing(coroutines: list[Coroutine[Any, Any, T]]) -> list[T]:
    """Run concurrently; on the first failure cancel the rest (no stray requests) and re-raise."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class _LoopThread:
    """An event loop on its own thread, so the synchronous `generate` works from any caller,
    including one that already runs an event loop (a notebook)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="foresight-http", daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()
