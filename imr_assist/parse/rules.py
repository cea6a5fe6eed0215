"""Rules kept as data: regular expressions in TOML files under ``imr_assist/data/``.

A rules file holds named ``fragments`` and the rules that use them, or tables of named
patterns (``PatternTable``). A pattern is a string, or a list of strings joined without
separators (so a long pattern can be laid out over lines). Inside a pattern or a
fragment:

- ``{NAME}`` is the fragment ``NAME`` (fragments may use other fragments);
- ``{gap:N}`` is up to N characters inside one clause: no period, semicolon or colon,
  and no clause-opening word (the fragment ``BREAK``) in between;
- ``{words:N}`` is up to N whole words.

A regular-expression quantifier is ``{2}`` or ``{0,3}``, never a name, so the two do
not collide. Files are read once, with ``tomllib``; nothing is compiled here, so a
command that never labels a rationale never pays for it. A file that does not load
(bad TOML, an unknown fragment, a fragment that uses itself) raises ``ConfigError``
naming the file and the place.

Why TOML rather than the lexicon's JSON: these files are mostly regular expressions,
and TOML's literal strings hold them without doubling every backslash.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from imr_assist.errors import ConfigError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

_REF = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::(\d+))?\}")


@lru_cache(maxsize=16)
def load_toml(name: str) -> dict[str, Any]:
    """The packaged data file ``imr_assist/data/<name>``, parsed."""
    path = DATA_DIR / name
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as err:
        raise ConfigError(f"{path}: cannot read rules file ({err}); reinstall imr-assist") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None


def joined(value: str | list[str]) -> str:
    """A pattern written as one string or as a list of pieces."""
    return value if isinstance(value, str) else "".join(value)


class Fragments:
    """Named pieces of patterns, expanded on demand (each once)."""

    def __init__(self, raw: Mapping[str, str | list[str]], where: str) -> None:
        self._raw = {name: joined(v) for name, v in raw.items()}
        self._done: dict[str, str] = {}
        self._where = where

    def __contains__(self, name: str) -> bool:
        return name in self._raw

    def __getitem__(self, name: str) -> str:
        return self._get(name, ())

    def gap(self, n: int) -> str:
        """Up to ``n`` characters inside one clause (no period, semicolon or contrast)."""
        return rf"(?:(?!{self['BREAK']})[^.;:]){{0,{n}}}?"

    @staticmethod
    def words(n: int) -> str:
        """Up to ``n`` whole words."""
        return rf"(?:[\w'/-]+,?\s+){{0,{n}}}?"

    def expand(self, pattern: str | list[str], where: str | None = None) -> str:
        """``pattern`` with every ``{NAME}``, ``{gap:N}`` and ``{words:N}`` replaced."""
        return self._expand(joined(pattern), where or self._where, ())

    def _get(self, name: str, stack: tuple[str, ...]) -> str:
        if name not in self._done:
            if name not in self._raw:
                raise ConfigError(f"{self._where}: unknown fragment {{{name}}}")
            if name in stack:
                chain = " -> ".join((*stack, name))
                raise ConfigError(f"{self._where}: fragment uses itself ({chain})")
            where = f"{self._where}: fragment {name}"
            self._done[name] = self._expand(self._raw[name], where, (*stack, name))
        return self._done[name]

    def _expand(self, text: str, where: str, stack: tuple[str, ...]) -> str:
        def sub(m: re.Match[str]) -> str:
            name, n = m.group(1), m.group(2)
            if n is not None:
                if name == "gap":
                    return self.gap(int(n))
                if name == "words":
                    return self.words(int(n))
                raise ConfigError(f"{where}: unknown function {{{name}:{n}}}")
            if name not in self._raw:
                raise ConfigError(f"{where}: unknown fragment {{{name}}}")
            return self._get(name, stack)

        return _REF.sub(sub, text)


def compile_pattern(pattern: str, where: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """``re.compile`` with an error that names the rule."""
    try:
        return re.compile(pattern, flags)
    except re.error as err:
        raise ConfigError(f"{where}: pattern does not compile ({err})") from None


class TableEntry(BaseModel):
    """One named pattern of a table, with its examples."""

    model_config = ConfigDict(extra="forbid")

    pattern: str | list[str]
    match: list[str] = Field(min_length=1, description="Texts the pattern must find")
    no_match: list[str] = Field(default_factory=list, description="Texts it must not find")


class PatternTable(Mapping[str, re.Pattern[str]]):
    """``name -> compiled pattern`` for the table ``table`` of the data file ``file``.

    Nothing is read at construction: the file is read, checked and compiled on first
    use (and again after ``load_toml.cache_clear()``).
    """

    def __init__(self, file: str, table: str) -> None:
        self.file, self.table = file, table
        self._raw: dict[str, Any] | None = None
        self._compiled: dict[str, re.Pattern[str]] = {}
        self._entries: dict[str, TableEntry] = {}

    def entries(self) -> dict[str, TableEntry]:
        """The table's entries, checked, in file order."""
        self._load()
        return self._entries

    def _load(self) -> dict[str, re.Pattern[str]]:
        raw = load_toml(self.file)
        if raw is not self._raw:
            where = f"{DATA_DIR / self.file}: {self.table}"
            table = raw.get(self.table)
            if not isinstance(table, dict) or not table:
                raise ConfigError(f"{where}: missing or empty table")
            entries: dict[str, TableEntry] = {}
            for name, value in table.items():
                try:
                    entries[name] = TableEntry.model_validate(value)
                except ValidationError as err:
                    first = err.errors()[0]
                    field = ".".join(str(p) for p in first["loc"])
                    raise ConfigError(f"{where}.{name}: {field}: {first['msg']}") from None
            self._compiled = {
                name: compile_pattern(joined(e.pattern), f"{where}.{name}")
                for name, e in entries.items()
            }
            self._entries, self._raw = entries, raw
        return self._compiled

    def __getitem__(self, name: str) -> re.Pattern[str]:
        return self._load()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())
