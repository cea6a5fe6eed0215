"""A thin, explicit wrapper over the official ``openai`` client.

It talks to any OpenAI-compatible chat completions endpoint (OpenAI itself, Ollama,
vLLM, llama.cpp, ...) and turns every failure into one :class:`LLMError` whose message
is a single line naming the endpoint, the model, the problem and what to do.

Retries are done here rather than inside ``openai`` (which is built with
``max_retries=0``) so the policy is visible, testable and the same for streaming and
non-streaming calls:

* retried: HTTP 408/429/5xx, timeouts, connection errors - up to ``max_retries`` times,
  with exponential backoff plus jitter, honouring ``Retry-After`` (capped);
* not retried: malformed or empty replies, authentication and other 4xx errors - the
  caller decides what to do (it may re-ask once with the problem named, then fall back).

A reply says how many requests it took and why earlier ones were re-sent, so callers
can tell the user ("timed out after 60s; sent again"). Reasoning models' thinking
(``<think>...</think>`` in the content, or a separate ``reasoning_content`` field) is
never part of a reply's text and is never streamed.

The API key never appears in a message, a ``repr`` or a log line.
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import math
import os
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast
from urllib.parse import urlsplit

import openai

from imr_assist.errors import ConfigError, LLMError
from imr_assist.urls import redact_url, redact_urls_in

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

    from imr_assist.settings import Settings

__all__ = [
    "DEFAULT_ENDPOINT",
    "LOCAL_TIMEOUT",
    "REMOTE_TIMEOUT",
    "LLMClient",
    "LLMConfig",
    "LLMReply",
    "LLMRequestError",
]

log = logging.getLogger(__name__)

#: What the ``openai`` client talks to when no base URL is configured.
DEFAULT_ENDPOINT = "https://api.openai.com/v1"
#: Key sent to local servers that need none: ``openai`` refuses to start without a key.
PLACEHOLDER_KEY = "not-needed"
#: Default seconds per request to a hosted API.
REMOTE_TIMEOUT = 60.0
#: Default seconds per request to a server on this machine: a 1.5B model on two CPU
#: cores took 97 s over its first 2.5k-token prompt, so 60 s cut it off and re-sent it.
LOCAL_TIMEOUT = 300.0

_T = TypeVar("_T")


@dataclass
class LLMConfig:
    """Settings for one model endpoint.

    ``api_key`` None means: use ``OPENAI_API_KEY``; failing that, a placeholder when a
    ``base_url`` is set (local servers such as Ollama need no key). ``base_url`` None
    means ``OPENAI_BASE_URL`` if set, else the OpenAI API. ``timeout`` is per HTTP
    request, in seconds (for streams: the wait for the first byte and between chunks).
    ``backoff_base`` and ``backoff_max`` shape the retry delays, in seconds.
    """

    model: str
    base_url: str | None = None
    api_key: str | None = None
    timeout: float = 60.0
    max_retries: int = 3
    temperature: float = 0.0
    backoff_base: float = 0.5
    backoff_max: float = 30.0

    def __repr__(self) -> str:
        # Hand-written so the key can never leak through logging or tracebacks.
        key = None if self.api_key is None else "'***'"
        url = None if self.base_url is None else redact_url(self.base_url)
        return (
            f"LLMConfig(model={self.model!r}, base_url={url!r}, api_key={key}, "
            f"timeout={self.timeout!r}, max_retries={self.max_retries!r}, "
            f"temperature={self.temperature!r}, backoff_base={self.backoff_base!r}, "
            f"backoff_max={self.backoff_max!r})"
        )


@dataclass
class LLMReply:
    """The model's whole text and token usage (zeros when the server reported none).

    ``text`` has any reasoning block removed. ``attempts`` counts the requests this
    reply took; ``resent`` names why each earlier one failed (e.g. "timed out after
    60s"). ``finish_reason`` is the server's, "length" meaning max_tokens cut it short.
    """

    text: str
    usage: dict[str, int] = field(
        default_factory=lambda: {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    )
    attempts: int = 1
    resent: list[str] = field(default_factory=list)
    finish_reason: str | None = None


class LLMRequestError(LLMError):
    """An :class:`LLMError` that also says what went wrong, for callers that branch on it.

    ``kind`` is one of: ``timeout``, ``connection``, ``rate_limit``, ``server``, ``auth``,
    ``permission``, ``not_found``, ``bad_request``, ``http``, ``malformed``, ``empty``,
    ``api``. ``status`` is the HTTP status when there was one; ``attempts`` counts the
    requests made.
    """

    def __init__(self, message: str, *, kind: str, status: int | None, attempts: int) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.attempts = attempts


class _Failure(Exception):
    """One failed attempt, already classified; internal to the retry loop.

    Only exceptions raised by the ``openai`` call are turned into this, so an exception
    from the caller's ``on_delta`` callback propagates untouched and is never retried.
    """

    def __init__(
        self,
        kind: str,
        problem: str,
        advice: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(problem)
        self.kind = kind
        self.problem = problem
        self.advice = advice
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after


def is_loopback(url: str | None) -> bool:
    """Whether ``url`` names this machine (localhost, 127.0.0.0/8, ::1)."""
    if not url:
        return False
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def default_timeout(base_url: str | None) -> float:
    """Seconds per request when none is configured: longer for a model on this machine."""
    url = base_url or os.environ.get("OPENAI_BASE_URL") or None
    return LOCAL_TIMEOUT if is_loopback(url) else REMOTE_TIMEOUT


def client_from_settings(settings: Settings) -> LLMClient:
    """The LLM client the settings describe (model, endpoint, key, timeout, retries)."""
    return LLMClient(
        LLMConfig(
            model=settings.resolved_llm_model,
            base_url=settings.openai_base_url,
            api_key=settings.api_key(),
            timeout=settings.llm_timeout or default_timeout(settings.openai_base_url),
            max_retries=settings.llm_max_retries,
        )
    )


class LLMClient:
    """Chat completions with explicit retries and one-line, key-free errors."""

    def __init__(self, config: LLMConfig) -> None:
        if not config.model or not config.model.strip():
            raise ConfigError("LLM model name is empty: pass a model name (e.g. --llm-model)")
        if not config.timeout > 0:
            raise ConfigError(f"LLM timeout must be positive seconds, got {config.timeout!r}")
        if config.max_retries < 0:
            raise ConfigError(f"LLM max_retries must be 0 or more, got {config.max_retries!r}")
        self.config = config
        base_url = config.base_url or os.environ.get("OPENAI_BASE_URL") or None
        key = config.api_key or os.environ.get("OPENAI_API_KEY") or None
        if key is None:
            if base_url is None:
                raise ConfigError(
                    "no language model configured: set OPENAI_API_KEY (for the OpenAI API) or "
                    "OPENAI_BASE_URL (for a local OpenAI-compatible server), or pass --llm none"
                )
            key = PLACEHOLDER_KEY
        self._key = key
        self._base_url = base_url
        #: Endpoint as shown to the user: no credentials, no query string.
        self.endpoint = redact_url(base_url) if base_url else DEFAULT_ENDPOINT
        # max_retries=0: the retry policy lives in _call so it is explicit and testable.
        self._client = openai.OpenAI(
            api_key=key, base_url=base_url, timeout=config.timeout, max_retries=0
        )
        # Indirections so tests can observe backoff without waiting for it.
        self._sleep: Callable[[float], None] = time.sleep
        self._random: Callable[[], float] = random.random

    def __repr__(self) -> str:
        return f"LLMClient(endpoint={self.endpoint!r}, model={self.config.model!r})"

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._client.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public API ------------------------------------------------------------

    def complete(
        self,
        messages: list[dict[str, str]],
        *,
        response_format: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> LLMReply:
        """Send ``messages`` and return the whole reply once it is complete.

        ``response_format`` (e.g. a JSON schema) and ``max_tokens`` are sent only when
        given, so servers that do not know them are not bothered with them;
        ``temperature`` overrides the configured one for this request.
        """
        extra = _extra(response_format, max_tokens)
        if temperature is not None:
            extra["temperature"] = temperature
        return self._call(lambda: self._complete_once(messages, extra), can_retry=lambda: True)

    def stream(
        self,
        messages: list[dict[str, str]],
        on_delta: Callable[[str], None],
        *,
        max_tokens: int | None = None,
    ) -> LLMReply:
        """Send ``messages``, call ``on_delta`` with each text piece as it arrives.

        Returns the whole text and usage. A failure after some text was already passed
        to ``on_delta`` is not retried, because a retry would repeat that text. Text
        inside a ``<think>`` block is held back, never passed to ``on_delta``.
        """
        state = _StreamState()
        extra = _extra(None, max_tokens)
        return self._call(
            lambda: self._stream_once(messages, on_delta, state, extra),
            can_retry=lambda: not state.emitted,
        )

    # -- one attempt each ------------------------------------------------------

    def _complete_once(self, messages: list[dict[str, str]], extra: dict[str, Any]) -> LLMReply:
        try:
            response: Any = self._client.chat.completions.create(
                model=self.config.model,
                messages=_as_params(messages),
                **{"temperature": self.config.temperature, **extra},
            )
        except Exception as err:
            self._fail(err)
        # With a non-JSON content type the openai client hands back the raw text.
        if isinstance(response, str) or not hasattr(response, "choices"):
            raise _malformed("the reply is not a chat completion object")
        choices = getattr(response, "choices", None)
        if not choices:
            raise _malformed("the reply has no choices")
        message = getattr(choices[0], "message", None)
        text = getattr(message, "content", None)
        if text is not None and not isinstance(text, str):
            raise _malformed("the reply's content is not text")
        # reasoning_content (DeepSeek, vLLM and llama.cpp reasoning parsers) is not read.
        text = strip_reasoning(text or "")
        if not text.strip():
            raise _empty(getattr(message, "refusal", None))
        return LLMReply(
            text=text,
            usage=_usage(getattr(response, "usage", None)),
            finish_reason=getattr(choices[0], "finish_reason", None),
        )

    def _stream_once(
        self,
        messages: list[dict[str, str]],
        on_delta: Callable[[str], None],
        state: _StreamState,
        extra: dict[str, Any],
    ) -> LLMReply:
        try:
            stream = self._open_stream(messages, state, extra)
        except Exception as err:
            self._fail(err)
        pieces: list[str] = []
        usage: Any = None
        saw_chunk = False
        finish: str | None = None
        thinking = _ThinkFilter()
        try:
            iterator = iter(stream)
            while True:
                try:
                    chunk: Any = next(iterator)
                except StopIteration:
                    break
                except Exception as err:
                    self._fail(err)
                saw_chunk = True
                if getattr(chunk, "usage", None) is not None:
                    usage = chunk.usage
                for choice in getattr(chunk, "choices", None) or []:
                    finish = getattr(choice, "finish_reason", None) or finish
                    piece = getattr(getattr(choice, "delta", None), "content", None)
                    if isinstance(piece, str) and piece:
                        shown = thinking.feed(piece)
                        if not shown:
                            continue
                        pieces.append(shown)
                        state.emitted = True
                        # Outside any try: a callback error is the caller's, not the LLM's.
                        on_delta(shown)
        finally:
            stream.close()
        if not saw_chunk:
            raise _malformed("the stream carried no completion chunks")
        rest = thinking.flush()
        if rest:
            pieces.append(rest)
            state.emitted = True
            on_delta(rest)
        text = "".join(pieces)
        if not text.strip():
            raise _empty(None)
        return LLMReply(text=text, usage=_usage(usage), finish_reason=finish)

    def _open_stream(
        self, messages: list[dict[str, str]], state: _StreamState, extra: dict[str, Any]
    ) -> Any:
        """Start a streamed completion, asking for usage when the server allows it."""
        if state.include_usage:
            try:
                return self._client.chat.completions.create(
                    model=self.config.model,
                    messages=_as_params(messages),
                    temperature=self.config.temperature,
                    stream=True,
                    stream_options={"include_usage": True},
                    **extra,
                )
            except openai.BadRequestError as err:
                # Some older compatible servers reject stream_options; usage is a nicety,
                # so ask again without it rather than fail the whole answer.
                if "stream_options" not in str(err.message):
                    raise
                state.include_usage = False
                log.info("%s rejected stream_options; streaming without usage", self.endpoint)
        return self._client.chat.completions.create(
            model=self.config.model,
            messages=_as_params(messages),
            temperature=self.config.temperature,
            stream=True,
            **extra,
        )

    # -- retry loop and errors -------------------------------------------------

    def _call(self, attempt: Callable[[], _T], can_retry: Callable[[], bool]) -> _T:
        """Run ``attempt`` with retries on transient failures; raise LLMRequestError."""
        attempts = 0
        resent: list[str] = []
        while True:
            attempts += 1
            try:
                result = attempt()
                if isinstance(result, LLMReply):
                    result.attempts = attempts
                    result.resent = resent
                return result
            except _Failure as failure:
                retries_used = attempts - 1
                if failure.retryable and can_retry() and retries_used < self.config.max_retries:
                    resent.append(self._scrub(failure.problem))
                    delay = self._backoff(retries_used, failure.retry_after)
                    log.info(
                        "%s (model %s): %s; retry %d of %d in %.2fs",
                        self.endpoint,
                        self.config.model,
                        self._scrub(failure.problem),
                        retries_used + 1,
                        self.config.max_retries,
                        delay,
                    )
                    self._sleep(delay)
                    continue
                raise self._error(failure, attempts) from failure.__cause__

    def _backoff(self, retries_used: int, retry_after: float | None) -> float:
        """Seconds to wait before the next attempt."""
        cap = max(0.0, self.config.backoff_max)
        if retry_after is not None:
            # The server knows its own load best; trust it, but never wait unbounded.
            return min(max(0.0, retry_after), cap)
        delay = self.config.backoff_base * (2.0**retries_used)
        # Jitter spreads out clients that failed together so they do not retry in step.
        delay *= 1.0 + 0.25 * self._random()
        return min(delay, cap)

    def _error(self, failure: _Failure, attempts: int) -> LLMRequestError:
        tries = f" ({attempts} attempts)" if attempts > 1 else ""
        message = (
            f"LLM endpoint {self.endpoint} (model {self.config.model}) "
            f"{failure.problem}{tries}; {failure.advice}"
        )
        return LLMRequestError(
            _one_line(self._scrub(message)),
            kind=failure.kind,
            status=failure.status,
            attempts=attempts,
        )

    def _scrub(self, text: str) -> str:
        """Remove the API key from text that may echo it (server messages, URLs)."""
        text = redact_urls_in(text)
        if self._key and self._key != PLACEHOLDER_KEY:
            text = text.replace(self._key, "***")
        return text

    def _fail(self, err: Exception) -> NoReturn:
        """Classify an exception from the ``openai`` call and raise it as a _Failure."""
        failure = self._classify(err)
        raise failure from err

    def _classify(self, err: Exception) -> _Failure:
        timeout = f"{self.config.timeout:g}s"
        if isinstance(err, openai.APITimeoutError):
            return _Failure(
                "timeout",
                f"timed out after {timeout}",
                "the server may be overloaded or the model slow; try again later "
                "or raise the timeout",
                retryable=True,
            )
        if isinstance(err, openai.APIConnectionError):
            cause = err.__cause__ or err.__context__
            detail = f" ({_snippet(str(cause))})" if cause and str(cause) else ""
            return _Failure(
                "connection",
                f"could not be reached{detail}",
                "check that the server is running and the base URL is right",
                retryable=True,
            )
        if isinstance(err, openai.APIResponseValidationError):
            return _malformed("the reply did not match the chat completion format")
        if isinstance(err, openai.APIStatusError):
            return self._classify_status(err)
        if isinstance(err, openai.APIError):
            # E.g. an error event inside an SSE stream.
            return _Failure(
                "api",
                f"reported an error: {_snippet(str(err.message))}",
                "try again later or check the server logs",
                retryable=False,
            )
        if isinstance(err, ValueError):
            # json.JSONDecodeError and pydantic's ValidationError are both ValueErrors.
            return _malformed(f"the reply is not valid JSON ({type(err).__name__})")
        if isinstance(err, openai.OpenAIError):
            return _Failure(
                "api",
                f"failed: {_snippet(str(err))}",
                "check the LLM settings",
                retryable=False,
            )
        # Anything else is a bug in this module or in openai: let it crash loudly.
        raise err

    def _classify_status(self, err: openai.APIStatusError) -> _Failure:
        status = err.status_code
        said = _server_message(err)
        if status == 401:
            # The server's words are dropped here: auth errors often echo part of the key.
            return _Failure(
                "auth",
                "refused the API key (HTTP 401, authentication failed)",
                "check OPENAI_API_KEY or the key you passed",
                retryable=False,
                status=status,
            )
        if status == 403:
            return _Failure(
                "permission",
                "denied access (HTTP 403)",
                "check that the API key may use this model",
                retryable=False,
                status=status,
            )
        if status == 404:
            return _Failure(
                "not_found",
                f"answered not found (HTTP 404{said})",
                "check the model name and that the base URL ends in /v1",
                retryable=False,
                status=status,
            )
        if status == 429:
            return _Failure(
                "rate_limit",
                f"is rate limiting requests (HTTP 429{said})",
                "wait a while and try again, or check the account's quota",
                retryable=True,
                status=status,
                retry_after=_retry_after(err.response.headers),
            )
        if status == 408 or status >= 500:
            return _Failure(
                "server",
                f"had a server error (HTTP {status}{said})",
                "try again later or check the server logs",
                retryable=True,
                status=status,
                retry_after=_retry_after(err.response.headers),
            )
        if status in (400, 422):
            return _Failure(
                "bad_request",
                f"rejected the request (HTTP {status}{said})",
                "check the model name and the LLM settings",
                retryable=False,
                status=status,
            )
        return _Failure(
            "http",
            f"failed with HTTP {status}{said}",
            "check the LLM settings and the server logs",
            retryable=False,
            status=status,
        )


@dataclass
class _StreamState:
    """What one ``stream`` call has done so far, shared across its attempts."""

    emitted: bool = False
    include_usage: bool = True


def _extra(response_format: dict[str, Any] | None, max_tokens: int | None) -> dict[str, Any]:
    """Optional request fields, present only when set."""
    extra: dict[str, Any] = {}
    if response_format is not None:
        extra["response_format"] = response_format
    if max_tokens is not None:
        extra["max_tokens"] = max_tokens
    return extra


_THINK_BLOCK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)


def strip_reasoning(text: str) -> str:
    """``text`` without ``<think>...</think>`` blocks (an unclosed one runs to the end).

    Reasoning models (Qwen3, DeepSeek-R1 and their distillations) write their thinking
    into the content this way when the server has no reasoning parser; it is not the
    answer and quotes in it must not be checked or shown.
    """
    if "<think" not in text.lower():
        return text
    return _THINK_BLOCK.sub("", text).lstrip()


class _ThinkFilter:
    """Holds back streamed text inside ``<think>`` blocks, across chunk boundaries."""

    _OPEN, _CLOSE = "<think>", "</think>"

    def __init__(self) -> None:
        self._buf = ""
        self._inside = False
        self._started = False  # some visible text was passed on already

    def feed(self, piece: str) -> str:
        self._buf += piece
        out: list[str] = []
        while self._buf:
            low = self._buf.lower()
            if self._inside:
                end = low.find(self._CLOSE)
                if end < 0:
                    # Keep only what could be the start of "</think>".
                    self._buf = self._buf[-(len(self._CLOSE) - 1) :]
                    break
                self._buf = self._buf[end + len(self._CLOSE) :]
                self._inside = False
                continue
            start = low.find(self._OPEN)
            if start >= 0:
                out.append(self._buf[:start])
                self._buf = self._buf[start + len(self._OPEN) :]
                self._inside = True
                continue
            # Hold back a tail that may be the beginning of "<think>".
            keep = next(
                (k for k in range(len(self._OPEN) - 1, 0, -1) if low.endswith(self._OPEN[:k])), 0
            )
            out.append(self._buf[: len(self._buf) - keep])
            self._buf = self._buf[len(self._buf) - keep :]
            break
        shown = "".join(out)
        if not self._started:
            shown = shown.lstrip()  # the blank lines a think block leaves behind
        self._started = self._started or bool(shown)
        return shown

    def flush(self) -> str:
        rest = "" if self._inside else self._buf
        self._buf = ""
        return rest


def _as_params(messages: list[dict[str, str]]) -> list[ChatCompletionMessageParam]:
    """Plain role/content dicts are what openai's TypedDict message params describe."""
    return cast("list[ChatCompletionMessageParam]", messages)


def _malformed(detail: str) -> _Failure:
    return _Failure(
        "malformed",
        f"returned a malformed reply: {detail}",
        "check that the base URL points at an OpenAI-compatible /v1 endpoint",
        retryable=False,
    )


def _empty(refusal: object) -> _Failure:
    detail = f" (refusal: {_snippet(refusal)})" if isinstance(refusal, str) and refusal else ""
    return _Failure(
        "empty",
        f"returned an empty reply{detail}",
        "try again, or try another model",
        retryable=False,
    )


def _usage(usage: Any) -> dict[str, int]:
    """Token counts from an openai usage object; zeros for whatever is missing."""

    def count(name: str) -> int:
        value = getattr(usage, name, None) if usage is not None else None
        return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0

    prompt, completion = count("prompt_tokens"), count("completion_tokens")
    total = count("total_tokens") or prompt + completion
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds the server asked us to wait, from Retry-After(-ms); None if absent/unreadable."""
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000.0
        except ValueError:
            value = math.nan
        if math.isfinite(value):
            return max(0.0, value)
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        # Retry-After may also be an HTTP date.
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())
    return max(0.0, value) if math.isfinite(value) else None


def _server_message(err: openai.APIStatusError) -> str:
    """``": <what the server said>"``, shortened, or ``""`` when it said nothing useful."""
    body = err.body
    text: object = None
    if isinstance(body, dict):
        inner = body.get("error", body)
        text = inner.get("message") if isinstance(inner, dict) else inner
    elif isinstance(body, str):
        text = body
    if not isinstance(text, str) or not text.strip():
        return ""
    return f": {_snippet(text)}"


def _snippet(text: object, limit: int = 160) -> str:
    flat = _one_line(str(text))
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _one_line(text: str) -> str:
    return " ".join(text.split())
