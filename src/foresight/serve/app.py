"""The ASGI app: routes, authentication, the body-size guard and OpenAI-style errors.

A completion request is validated completely (key, model, options, limits) before its search
is submitted to the shared driver; the handler then waits for the search while watching the
client: a client that disconnects, or a search past `--request-timeout`, cancels the program.
A streamed answer is sent as chunks once the search ends.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from typing import Any, Callable

from fastapi import Depends, FastAPI, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from foresight.errors import ForesightError
from foresight.serve import schemas
from foresight.serve.auth import KeyRing
from foresight.serve.errors import ApiError, error_body
from foresight.serve.host import SharedDriver
from foresight.serve.limits import Limits
from foresight.serve.mapping import SAMPLING_FIELDS, choose_strategy, model_ids
from foresight.serve.programs import ServedRequest, served_program
from foresight.serve.responses import Answer, chat_body, chat_events, completion_body, completion_events, make_answer
from foresight.strategies.base import AnswerExtractor

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1  # how often a waiting handler checks whether its client is still there
_ERRORS = {status: {"model": schemas.ErrorBody, "description": text} for status, text in (
    (400, "invalid request (the field is in error.param)"), (401, "missing or wrong API key"),
    (404, "model not served"), (413, "request body too large"), (429, "too many requests in flight for this key"),
    (502, "the inference server behind foresight failed"), (504, "the search ran past --request-timeout"),
)}
#: A server-sent event as clients parse it: the chunk's JSON (or [DONE]) in `data`.
_SSE_EVENT = {"type": "object", "required": ["data"], "properties": {
    "data": {"type": "string"}, "event": {"type": "string"}, "id": {"type": "string"}, "retry": {"type": "integer"}}}
_STREAM = {200: {"content": {"text/event-stream": {"schema": _SSE_EVENT}},
                 "description": "the completion; with stream: true, server-sent events"}}


class _ClientGone(Exception):
    """The client disconnected while its search ran."""


def create_app(host: SharedDriver, extract: AnswerExtractor, limits: Limits, keys: KeyRing) -> FastAPI:
    app = FastAPI(title="foresight", version="1", docs_url=None, redoc_url=None,
                  description="Inference-time search strategies behind an OpenAI-compatible API.")
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)
    _add_error_handlers(app)
    bearer = HTTPBearer(auto_error=False, description="an API key given to `foresight serve`")
    started = int(time.time())

    def caller(request: Request, _: HTTPAuthorizationCredentials | None = Security(bearer)) -> int:
        return keys.identify(request.headers.get("authorization"))

    @app.get("/health", response_model=schemas.Health)
    async def health() -> dict[str, Any]:
        return {"status": "ok", "model": host.engine.model_id, "programs_in_flight": host.programs_in_flight,
                "requests_in_flight": keys.requests_in_flight}

    @app.get("/v1/models", response_model=schemas.ModelList, responses={401: _ERRORS[401]})
    async def models(_: int = Depends(caller)) -> dict[str, Any]:
        return {"object": "list", "data": [
            {"id": name, "object": "model", "created": started, "owned_by": "foresight", "description": text}
            for name, text in model_ids().items()]}

    @app.post("/v1/chat/completions", response_model=schemas.ChatCompletion, responses=_ERRORS | _STREAM)
    async def chat_completions(body: schemas.ChatCompletionRequest, request: Request, key: int = Depends(caller)) -> Response:
        limits.check_messages(len(body.messages))
        max_tokens = _one_of(body, "max_tokens", "max_completion_tokens")
        messages = [{"role": m.role, "content": m.content} for m in body.messages]
        served = _served(body, limits, max_tokens, messages=messages)
        answer = await _search(request, key, body, served, "chatcmpl")
        return _reply(body.stream, answer, chat_body, chat_events)

    @app.post("/v1/completions", response_model=schemas.TextCompletion, responses=_ERRORS | _STREAM)
    async def completions(body: schemas.CompletionRequest, request: Request, key: int = Depends(caller)) -> Response:
        served = _served(body, limits, body.max_tokens, prompt=body.prompt)
        answer = await _search(request, key, body, served, "cmpl")
        return _reply(body.stream, answer, completion_body, completion_events)

    async def _search(request: Request, key: int, body: schemas._Common, served: ServedRequest, prefix: str) -> Answer:
        with keys.slot(key):
            future = host.submit(served_program(host.engine, served, extract, limits))
            try:
                result, usage = await _wait(request, asyncio.wrap_future(future), limits.request_timeout)
            except ValueError as exc:  # a request the config let through but the engine refuses (max_tokens 0)
                raise ApiError(400, f"strategy '{served.config.name}': {exc}", param="foresight") from None
        return make_answer(f"{prefix}-{uuid.uuid4().hex}", int(time.time()), body.model, served, result, usage,
                           host.engine.num_parameters)

    return app


def _one_of(body: schemas.ChatCompletionRequest, first: str, second: str) -> int | None:
    """max_tokens and its newer alias max_completion_tokens: either, or both if they agree."""
    a, b = getattr(body, first), getattr(body, second)
    if a is not None and b is not None and a != b:
        raise ApiError(400, f"{first} = {a} and {second} = {b} disagree; give one", param=second)
    return a if a is not None else b


def _served(body: schemas._Common, limits: Limits, max_tokens: int | None, **prompt: Any) -> ServedRequest:
    """The validated search a request asks for (400/404 otherwise)."""
    sampling = {name: getattr(body, name) for name in SAMPLING_FIELDS} | {"max_tokens": max_tokens}
    if isinstance(sampling["stop"], (str, list)):
        sampling["stop"] = (sampling["stop"],) if isinstance(sampling["stop"], str) else tuple(sampling["stop"])
    choice = choose_strategy(body.model, sampling, body.foresight)
    limits.check_config(choice.config)
    seed = body.seed if body.seed is not None else secrets.randbelow(schemas.SEED_BOUND)
    return ServedRequest(choice.config, seed, choice.question_id, choice.trace, **prompt)


async def _wait(request: Request, waiter: asyncio.Future, timeout: float) -> Any:
    """The search's (result, usage); cancels it if the client leaves or time runs out."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            done, _ = await asyncio.wait({waiter}, timeout=min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
            if done:
                return waiter.result()
            if await request.is_disconnected():
                raise _ClientGone()
            if time.monotonic() >= deadline:
                raise ApiError(504, f"the search ran past {timeout:g} s (--request-timeout) and was cancelled",
                               code="timeout", type="timeout_error")
    finally:
        waiter.cancel()  # a no-op once done; otherwise the driver drops the program


def _reply(stream: bool, answer: Answer, body: Callable[[Answer], dict], events: Callable[[Answer], Any]) -> Response:
    if stream:
        return StreamingResponse(events(answer), media_type="text/event-stream")
    return JSONResponse(body(answer))


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        location = [str(part) for part in first.get("loc", ()) if part != "body"]
        param = ".".join(location) or None
        return JSONResponse(error_body(f"{param}: {first['msg']}" if param else first["msg"], param=param), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body(str(exc.detail)), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(_ClientGone)
    async def gone(_: Request, __: _ClientGone) -> Response:
        return Response(status_code=499)  # nobody reads it: the connection is closed

    @app.exception_handler(ForesightError)
    async def backend(_: Request, exc: ForesightError) -> JSONResponse:
        return JSONResponse(error_body(str(exc), type="server_error"), status_code=502)

    @app.exception_handler(Exception)
    async def internal(_: Request, exc: Exception) -> JSONResponse:
        log.exception("request failed", exc_info=exc)
        return JSONResponse(error_body("internal error", type="server_error"), status_code=500)


class BodyLimit:
    """ASGI middleware: read the whole body, refusing it with 413 past `max_bytes` (whether or
    not Content-Length says so), then hand it to the app; later receives (disconnects) pass through."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._too_large(scope, receive, send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left before sending its body
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, scope, receive, send) -> None:
        error = ApiError(413, f"request body is over this server's limit of {self.max_bytes} bytes (--max-body-bytes)",
                         code="request_too_large")
        await JSONResponse(error.body(), status_code=413)(scope, receive, send)
