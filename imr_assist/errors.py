"""Errors shown to the user.

Everything the CLI prints as a clean one-line error derives from ``ImrError``.
Anything else is a bug and is allowed to crash loudly.
"""

from __future__ import annotations


class ImrError(Exception):
    """Base class: ``str(err)`` is a complete one-line message for the user."""

    exit_code = 1


class LetterError(ImrError):
    """A file could not be read or is not an IMR determination letter."""

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"{source}: {problem}")


class ConfigError(ImrError):
    """A setting is missing or wrong; the message names it and what to do."""

    exit_code = 2


class IndexStateError(ImrError):
    """The index is missing, locked, or was built with another embedder."""


class LLMError(ImrError):
    """The language model endpoint failed in a way retries did not mend."""
