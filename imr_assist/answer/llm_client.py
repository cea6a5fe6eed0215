"""Chat completions from any OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, llama.cpp).

The HTTP side is ``imr_assist.openai_http``, shared with the embeddings endpoint: the
``openai`` client's own retries and timeouts (HTTP 408/409/429/5xx, timeouts and
connection errors sent again up to ``max_retries`` times with jittered backoff,
honouring ``Retry-After``), one error mapper, one redaction, and an injectable
``http_client``. Malformed or empty replies, authentication and other 4xx errors are
not sent again: the caller decides (it may re-ask once with the problem named, then
fall back). Every failure is one :class:`LLMRequestError` whose message is a single
line naming the endpoint, the model, the problem and what to do.

A reply says how many requests it took and why earlier ones were sent again, so
callers can tell the user ("timed out after 60s; sent again"). Reasoning models'
thinking (``<think>...</think>`` in the content, or a separate ``reasoning_content``
field) is never part of a reply's text and is never streamed.

The API key never appears in a message, a ``repr`` or a log line.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn, cast
from urllib.parse import urlsplit

import openai

from imr_assist.errors import ConfigError
from imr_assist.openai_http import (
    PLACEHOLDER_KEY,
    AttemptLog,
    EndpointError,
    Problem,
    describe,
    make_client,
    malformed,
    one_line,
    scrub,
    snippet,
)
from imr_assist.settings import openai_environment
from imr_assist.urls import redact_url

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
#: Default seconds per request to a hosted API.
REMOTE_TIMEOUT = 60.0
#: Default seconds per request to a server on this machine. A 1.5B model on two CPU
#: cores took 97 s over its first 2.5k-token prompt, so 60 s cut it off and re-sent it;
#: with other jobs on the same cores the same model took 357 s over a 1.8k-token prompt
#: (14 tokens/s read, 0.5 written), past 300 s. The server goes on computing a request
#: the client gave up on, so a re-send only queues behind it.
LOCAL_TIMEOUT = 900.0

#: The one error type of this module (``kind``, ``status``, ``attempts``).
LLMRequestError = EndpointError


@dataclass
class LLMConfig:
    """Settings for one model endpoint.

    ``api_key`` None means: use ``OPENAI_API_KEY``; failing that, a placeholder when a
    ``base_url`` is set (local servers such as Ollama need no key). ``base_url`` None
    means ``OPENAI_BASE_URL`` if set, else the OpenAI API. ``timeout`` is per HTTP
    request, in seconds (for streams: the wait for the first byte and between chunks);
    ``max_retries`` how often the ``openai`` client may send a failed request again.
    """

    model: str
    base_url: str | None = None
    api_key: str | None = None
    timeout: float = 60.0
    max_retries: int = 3
    temperature: float = 0.0

    def __repr__(self) -> str:
        # Hand-written so the key can never leak through logging or tracebacks.
        key = None if self.api_key is None else "'***'"
        url = None if self.base_url is None else redact_url(self.base_url)
        return (
            f"LLMConfig(model={self.model!r}, base_url={url!r}, api_key={key}, "
            f"timeout={self.timeout!r}, max_retries={self.max_retries!r}, "
            f"temperature={self.temperature!r})"
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


class _Failure(Exception):
    """One failed call, already classified; internal to this module.

    Only exceptions raised by the ``openai`` call are turned into this, so an exception
    from the caller's ``on_delta`` callback propagates untouched.
    """

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.problem)
        self.problem = problem


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
    url = base_url or openai_environment().base_url or None
    return LOCAL_TIMEOUT if is_loopback(url) else REMOTE_TIMEOUT


def client_from_settings(settings: Settings, http_client: Any = None) -> LLMClient:
    """The LLM client the settings describe (model, endpoint, key, timeout, retries)."""
    return LLMClient(
        LLMConfig(
            model=settings.resolved_llm_model,
            base_url=settings.openai_base_url,
            api_key=settings.api_key(),
            timeout=settings.llm_timeout or default_timeout(settings.openai_base_url),
            max_retries=settings.llm_max_retries,
        ),
        http_client=http_client,
    )


class LLMClient:
    """Chat completions with the openai client's retries and one-line, key-free errors.

    ``http_client`` (an ``httpx2.Client`` or ``httpx.Client``) replaces the one the
    openai client would build; it stays open when this client closes.
    """

    def __init__(self, config: LLMConfig, *, http_client: Any = None) -> None:
        if not config.model or not config.model.strip():
            raise ConfigError("LLM model name is empty: pass a model name (e.g. --llm-model)")
        if not config.timeout > 0:
            raise ConfigError(f"LLM timeout must be positive seconds, got {config.timeout!r}")
        if config.max_retries < 0:
            raise ConfigError(f"LLM max_retries must be 0 or more, got {config.max_retries!r}")
        self.config = config
        env = openai_environment()
        base_url = config.base_url or env.base_url or None
        key = config.api_key or env.key() or None
        if key is None:
            if base_url is None:
                raise ConfigError(
                    "no language model configured: set OPENAI_API_KEY (for the OpenAI API) or "
                    "OPENAI_BASE_URL (for a local OpenAI-compatible server), or pass --llm none"
                )
            key = PLACEHOLDER_KEY
        self._key = key
        #: Endpoint as shown to the user: no credentials, no query string.
        self.endpoint = redact_url(base_url) if base_url else DEFAULT_ENDPOINT
        self._attempts = AttemptLog(config.timeout)
        self._owns_http = http_client is None
        self._client = make_client(
            base_url=base_url,
            api_key=key,
            timeout=config.timeout,
            max_retries=config.max_retries,
            http_client=http_client,
            log=self._attempts,
        )

    def __repr__(self) -> str:
        return f"LLMClient(endpoint={self.endpoint!r}, model={self.config.model!r})"

    def close(self) -> None:
        """Release the HTTP connection pool (not a caller's own ``http_client``)."""
        if self._owns_http:
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
        return self._call(lambda: self._complete_once(messages, extra))

    def stream(
        self,
        messages: list[dict[str, str]],
        on_delta: Callable[[str], None],
        *,
        max_tokens: int | None = None,
    ) -> LLMReply:
        """Send ``messages``, call ``on_delta`` with each text piece as it arrives.

        Returns the whole text and usage. Only the request is sent again on failure
        (the openai client's retries end when the reply starts), so no text reaches
        ``on_delta`` twice. Text inside a ``<think>`` block is never passed on.
        """
        state = _StreamState()
        extra = _extra(None, max_tokens)
        return self._call(lambda: self._stream_once(messages, on_delta, state, extra))

    # -- one call each ---------------------------------------------------------

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
            raise _Failure(malformed("the reply is not a chat completion object"))
        choices = getattr(response, "choices", None)
        if not choices:
            raise _Failure(malformed("the reply has no choices"))
        message = getattr(choices[0], "message", None)
        text = getattr(message, "content", None)
        if text is not None and not isinstance(text, str):
            raise _Failure(malformed("the reply's content is not text"))
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
            raise _Failure(malformed("the stream carried no completion chunks"))
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
                # so ask again without it rather than fail the whole answer. That is
                # another request, not the same one sent again.
                if "stream_options" not in str(err.message):
                    raise
                state.include_usage = False
                self._attempts.start()
                log.info("%s rejected stream_options; streaming without usage", self.endpoint)
        return self._client.chat.completions.create(
            model=self.config.model,
            messages=_as_params(messages),
            temperature=self.config.temperature,
            stream=True,
            **extra,
        )

    # -- attempts and errors ---------------------------------------------------

    def _call(self, once: Callable[[], LLMReply]) -> LLMReply:
        """Run one call (the openai client sends it again as needed); raise LLMRequestError."""
        self._attempts.start()
        try:
            reply = once()
        except _Failure as failure:
            raise self._error(failure) from failure.__cause__
        reply.attempts = max(1, self._attempts.attempts)
        reply.resent = [self._scrub(f) for f in self._attempts.failures()]
        for why in reply.resent:
            log.info("%s (model %s): %s; sent again", self.endpoint, self.config.model, why)
        return reply

    def _error(self, failure: _Failure) -> LLMRequestError:
        attempts = max(1, self._attempts.attempts)
        tries = f" ({attempts} attempts)" if attempts > 1 else ""
        p = failure.problem
        message = (
            f"LLM endpoint {self.endpoint} (model {self.config.model}) "
            f"{p.problem}{tries}; {p.advice}"
        )
        return LLMRequestError(
            one_line(self._scrub(message)), kind=p.kind, status=p.status, attempts=attempts
        )

    def _scrub(self, text: str) -> str:
        """Remove the API key from text that may echo it (server messages, URLs)."""
        return scrub(text, self._key)

    def _fail(self, err: Exception) -> NoReturn:
        """Classify an exception from the ``openai`` call and raise it as a _Failure."""
        problem = describe(err, timeout=self.config.timeout, base_url_setting="OPENAI_BASE_URL")
        raise _Failure(problem) from err


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


def _empty(refusal: object) -> _Failure:
    detail = f" (refusal: {snippet(refusal)})" if isinstance(refusal, str) and refusal else ""
    return _Failure(
        Problem("empty", f"returned an empty reply{detail}", "try again, or try another model")
    )


def _usage(usage: Any) -> dict[str, int]:
    """Token counts from an openai usage object; zeros for whatever is missing."""

    def count(name: str) -> int:
        value = getattr(usage, name, None) if usage is not None else None
        return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0

    prompt, completion = count("prompt_tokens"), count("completion_tokens")
    total = count("total_tokens") or prompt + completion
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}
