"""One HTTP layer for the OpenAI-compatible endpoints: chat completions and embeddings.

Both go through the official ``openai`` client, built here by ``make_client``, with
its own retries: HTTP 408, 409, 429 and 5xx, timeouts and connection errors are sent
again up to ``max_retries`` times, with exponential backoff and jitter, honouring a
server's ``retry-after-ms`` or ``Retry-After`` of up to two minutes (a server asking
for a longer wait is not retried). The HTTP client may be given (``http_client``, an
``httpx2.Client`` or ``httpx.Client``: proxies, certificates, another transport); its
event hooks then gain the observers below, and closing the openai client leaves it
open.

What the client's retries do not say, ``AttemptLog`` records: each request sent for
one call, and why each failed (a status and the server's words, or a timeout or a
failed connection, from httpx's ``trace`` extension), so a caller can tell the user
"timed out after 300s; sent again".

``describe`` turns any exception from an ``openai`` call into one ``EndpointError``
with a one-line message naming the endpoint, the model, the problem and what to do;
``scrub`` keeps keys and URL credentials out of every message and log line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from imr_assist.errors import LLMError
from imr_assist.urls import redact_urls_in

if TYPE_CHECKING:
    import openai

__all__ = ["AttemptLog", "EndpointError", "Problem", "describe", "make_client", "scrub"]

#: Key sent to local servers that need none: ``openai`` refuses to start without a key.
PLACEHOLDER_KEY = "not-needed"


class EndpointError(LLMError):
    """An endpoint failure, with what went wrong for callers that branch on it.

    ``kind`` is one of: ``timeout``, ``connection``, ``rate_limit``, ``server``, ``auth``,
    ``permission``, ``not_found``, ``bad_request``, ``http``, ``malformed``, ``empty``,
    ``api``. ``status`` is the HTTP status when there was one; ``attempts`` counts the
    requests sent.
    """

    def __init__(
        self, message: str, *, kind: str, status: int | None = None, attempts: int = 1
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.attempts = attempts


@dataclass
class Problem:
    """One failure, classified: what happened and what the user can do about it."""

    kind: str
    problem: str  # "timed out after 60s", "had a server error (HTTP 503: ...)"
    advice: str
    status: int | None = None  # the HTTP status, when there was one


def make_client(
    *,
    base_url: str | None,
    api_key: str,
    timeout: float,
    max_retries: int,
    http_client: Any = None,
    log: AttemptLog | None = None,
) -> openai.OpenAI:
    """The ``openai`` client for one endpoint, retrying on its own (see module docstring)."""
    import openai

    if log is not None:
        if http_client is None:
            http_client = openai.DefaultHttpxClient(event_hooks=log.hooks())
        else:
            hooks = http_client.event_hooks
            mine = log.hooks()
            http_client.event_hooks = {k: [*hooks.get(k, []), *mine[k]] for k in mine}
    return openai.OpenAI(
        api_key=api_key,
        base_url=base_url,
        timeout=timeout,
        max_retries=max_retries,
        http_client=http_client,
    )


class AttemptLog:
    """The requests sent for the current call on this thread, and why each failed.

    ``start()`` before a call; ``attempts`` and ``failures`` after it. A request that
    got an error status is described by it; one that got no reply by its transport
    error (a timeout or a failed connection), as far as the transport reports it.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._local = threading.local()

    def hooks(self) -> dict[str, list[Callable[[Any], None]]]:
        return {"request": [self._on_request], "response": [self._on_response]}

    def start(self) -> None:
        self._local.outcomes = []

    @property
    def attempts(self) -> int:
        return len(self._outcomes())

    def failures(self) -> list[str]:
        """Why each request but the last failed, in order (none: the first one held)."""
        return [o or "failed without a reply" for o in self._outcomes()[:-1]]

    def _outcomes(self) -> list[str | None]:
        outcomes: list[str | None] | None = getattr(self._local, "outcomes", None)
        if outcomes is None:
            outcomes = self._local.outcomes = []
        return outcomes

    def _on_request(self, request: Any) -> None:
        outcomes = self._outcomes()
        outcomes.append(None)
        slot = len(outcomes) - 1
        inner = request.extensions.get("trace")

        def trace(event: str, info: dict[str, Any]) -> None:
            if inner is not None:
                inner(event, info)
            err = info.get("exception") if event.endswith(".failed") else None
            if err is not None and outcomes[slot] is None:
                outcomes[slot] = self._transport_problem(err)

        request.extensions["trace"] = trace

    def _on_response(self, response: Any) -> None:
        outcomes = self._outcomes()
        if not outcomes or response.status_code < 400:
            return
        response.read()  # an error body is small; openai reads it again from the cache
        said = _body_message(_json_or_text(response))
        outcomes[-1] = status_problem(response.status_code, said).problem

    def _transport_problem(self, err: BaseException) -> str:
        if "timeout" in type(err).__name__.lower():
            return f"timed out after {self.timeout:g}s"
        return f"could not be reached ({snippet(str(err)) or type(err).__name__})"


def _json_or_text(response: Any) -> object:
    try:
        return response.json()
    except ValueError:
        return response.text


def describe(err: Exception, *, timeout: float, base_url_setting: str) -> Problem:
    """What an exception from an ``openai`` call means; re-raises what is not openai's.

    ``base_url_setting`` is the setting that names the endpoint (``OPENAI_BASE_URL``,
    ``IMR_ASSIST_EMBED_BASE_URL``), for the advice on a wrong URL.
    """
    import openai

    if isinstance(err, openai.APITimeoutError):
        return Problem(
            "timeout",
            f"timed out after {timeout:g}s",
            "the server may be overloaded or the model slow; try again later or raise the timeout",
        )
    if isinstance(err, openai.APIConnectionError):
        cause = err.__cause__ or err.__context__
        detail = f" ({snippet(str(cause))})" if cause and str(cause) else ""
        return Problem(
            "connection",
            f"could not be reached{detail}",
            f"check that the server is running and {base_url_setting} is right",
        )
    if isinstance(err, openai.APIResponseValidationError):
        return malformed("the reply did not match the expected format")
    if isinstance(err, openai.APIStatusError):
        return status_problem(err.status_code, _body_message(err.body), base_url_setting)
    if isinstance(err, openai.APIError):
        # E.g. an error event inside an SSE stream.
        return Problem(
            "api",
            f"reported an error: {snippet(str(err.message))}",
            "try again later or check the server logs",
        )
    if isinstance(err, ValueError):
        # json.JSONDecodeError and pydantic's ValidationError are both ValueErrors.
        return malformed(f"the reply is not valid JSON ({type(err).__name__})")
    if isinstance(err, openai.OpenAIError):
        return Problem("api", f"failed: {snippet(str(err))}", "check the settings")
    # Anything else is a bug here or in openai: let it crash loudly.
    raise err


def status_problem(
    status: int, said: str = "", base_url_setting: str = "OPENAI_BASE_URL"
) -> Problem:
    """An HTTP error status, with the server's own words (``said``) where they are safe."""
    problem = _status_problem(status, f": {said}" if said else "", base_url_setting)
    problem.status = status
    return problem


def _status_problem(status: int, said: str, base_url_setting: str) -> Problem:
    if status == 401:
        # The server's words are dropped here: auth errors often echo part of the key.
        return Problem(
            "auth",
            "refused the API key (HTTP 401, authentication failed)",
            "check OPENAI_API_KEY or the key you passed",
        )
    if status == 403:
        return Problem(
            "permission", "denied access (HTTP 403)", "check that the API key may use this model"
        )
    if status == 404:
        return Problem(
            "not_found",
            f"answered not found (HTTP 404{said})",
            f"check the model name and that the base URL ends in /v1 ({base_url_setting})",
        )
    if status == 429:
        return Problem(
            "rate_limit",
            f"is rate limiting requests (HTTP 429{said})",
            "wait a while and try again, or check the account's quota",
        )
    if status == 408 or status >= 500:
        return Problem(
            "server",
            f"had a server error (HTTP {status}{said})",
            "try again later or check the server logs",
        )
    if status in (400, 422):
        return Problem(
            "bad_request",
            f"rejected the request (HTTP {status}{said})",
            "check the model name and the settings",
        )
    return Problem(
        "http", f"failed with HTTP {status}{said}", "check the settings and the server logs"
    )


def malformed(detail: str) -> Problem:
    return Problem(
        "malformed",
        f"returned a malformed reply: {detail}",
        "check that the base URL points at an OpenAI-compatible /v1 endpoint",
    )


def _body_message(body: object) -> str:
    """What an error body says (``{"error": {"message": ...}}`` or text), shortened."""
    text: object = None
    if isinstance(body, dict):
        inner = body.get("error", body)
        text = inner.get("message") if isinstance(inner, dict) else inner
    elif isinstance(body, str):
        text = body
    if not isinstance(text, str) or not text.strip():
        return ""
    return snippet(text)


def scrub(text: str, key: str | None) -> str:
    """``text`` without URL credentials and without the API key (servers echo it)."""
    text = redact_urls_in(text)
    if key and key != PLACEHOLDER_KEY:
        text = text.replace(key, "***")
    return text


def snippet(text: object, limit: int = 160) -> str:
    flat = one_line(str(text))
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def one_line(text: str) -> str:
    return " ".join(text.split())
