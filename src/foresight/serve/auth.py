"""API keys and per-key concurrency.

Keys come from `--api-key` or a file (one per line), never from a request. A presented key is
compared with every configured key by `hmac.compare_digest` over their SHA-256 digests, so the
time taken says nothing about how much of a key was right, or which key matched. Without any
key configured the server is open, which `foresight serve` allows only on a loopback address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from foresight.errors import ConfigError
from foresight.serve.errors import ApiError

ANONYMOUS = -1  # the "key" of every request on a server without keys


def read_keys(keys: list[str] | None, key_file: str | None) -> list[str]:
    """The configured keys: `--api-key` values and the non-empty lines of `--api-key-file`."""
    found = list(keys or [])
    if key_file is not None:
        path = Path(key_file)
        try:
            found += [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"--api-key-file {path}: cannot read it ({exc.__class__.__name__})") from None
        if not found:
            raise ConfigError(f"--api-key-file {path}: holds no key")
    if any(not key.strip() or any(c.isspace() for c in key) for key in found):
        raise ConfigError("an API key must be non-empty and contain no whitespace")
    return found


def is_loopback(host: str) -> bool:
    """Whether binding `host` exposes the server only to this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


class KeyRing:
    """Checks a request's bearer token and counts each key's requests in flight."""

    def __init__(self, keys: list[str], max_in_flight: int) -> None:
        self._digests = [hashlib.sha256(key.encode()).digest() for key in keys]
        self.max_in_flight = max_in_flight
        self._in_flight: Counter[int] = Counter()

    @property
    def open(self) -> bool:
        return not self._digests

    def identify(self, authorization: str | None) -> int:
        """Index of the key a request's `Authorization: Bearer KEY` header holds (401 otherwise)."""
        if self.open:
            return ANONYMOUS
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "missing API key: send the header 'Authorization: Bearer KEY'",
                           code="invalid_api_key", type="authentication_error")
        presented = hashlib.sha256(token.strip().encode()).digest()
        matched = ANONYMOUS
        for index, digest in enumerate(self._digests):  # no early exit: every key is compared
            if hmac.compare_digest(presented, digest):
                matched = index
        if matched == ANONYMOUS:
            raise ApiError(401, "invalid API key", code="invalid_api_key", type="authentication_error")
        return matched

    @contextmanager
    def slot(self, key: int) -> Iterator[None]:
        """Hold one of the key's in-flight slots for a request (429 when all are taken)."""
        if self._in_flight[key] >= self.max_in_flight:
            raise ApiError(429, f"this API key already has {self.max_in_flight} requests in flight (--max-in-flight)",
                           code="rate_limit_exceeded", type="rate_limit_error")
        self._in_flight[key] += 1
        try:
            yield
        finally:
            self._in_flight[key] -= 1

    @property
    def requests_in_flight(self) -> int:
        return sum(self._in_flight.values())
