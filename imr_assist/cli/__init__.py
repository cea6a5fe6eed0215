"""The ``imr-assist`` command: a thin typer adapter over the library.

Each command lives in its own module, imported only when that command runs: a one-shot
command pays for its own imports, and ``imr-assist --help`` for none of them (start-up
time is mostly imports). ``COMMANDS`` names each command's module and the one line the
top-level help lists for it; ``tests/test_startup_imports.py`` checks that line against
the command's own docstring.
"""

from __future__ import annotations

import importlib
import sys
from difflib import get_close_matches
from typing import Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup

from imr_assist.errors import ImrError


class CommandEntry(NamedTuple):
    module: str
    summary: str  # the first line of the command's docstring


#: Every command, in pipeline order (the order ``--help`` lists them).
COMMANDS: dict[str, CommandEntry] = {
    "extract": CommandEntry(
        "imr_assist.cli.extract",
        "Parse letters into grounded records (one per letter; CSV: one row per item).",
    ),
    "ingest": CommandEntry(
        "imr_assist.cli.indexing",
        "Parse, chunk, embed and store letters; unchanged letters are skipped.",
    ),
    "search": CommandEntry(
        "imr_assist.cli.indexing",
        "Rank chunks for a query: hybrid dense + BM25, filtered by what the query names.",
    ),
    "ask": CommandEntry(
        "imr_assist.cli.answers",
        "Answer a question with verified citations from the letters.",
    ),
    "chat": CommandEntry(
        "imr_assist.cli.answers",
        "Ask follow-up questions; each one inherits what the last one was about.",
    ),
    "digest": CommandEntry(
        "imr_assist.cli.reports",
        "One letter as a readable digest: facts, decisions and the reviewer's quoted reasons.",
    ),
    "stats": CommandEntry(
        "imr_assist.cli.reports",
        "Upheld and overturned counts over every indexed decision, grouped by one field.",
    ),
    "eval": CommandEntry(
        "imr_assist.cli.evaluate",
        "Score extraction, retrieval, answers and citations against gold, beside a naive baseline.",
    ),
    "synth": CommandEntry(
        "imr_assist.cli.synth",
        "Write letters/, gold/, questions.jsonl and manifest.json for evaluation and benchmarks.",
    ),
}


class LazyCommands(TyperGroup):
    """A typer group that imports a command's module when the command is run or its
    own help is asked for; the group's help lists ``COMMANDS``' summaries instead."""

    _listing = False

    # click's Context, Command and HelpFormatter are typed Any here: typer has vendored
    # click in some versions and not in others.
    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            if self._listing:
                return TyperCommand(cmd_name, help=COMMANDS[cmd_name].summary)
            self.commands[cmd_name] = load_command(cmd_name)
        return self.commands.get(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in COMMANDS:
            # typer suggests among the commands loaded so far ("Did you mean 'search'?"):
            # load the close ones
            for name in get_close_matches(args[0], list(COMMANDS)):
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)


app = typer.Typer(
    name="imr-assist",
    help="Parse, index and question California workers' compensation IMR determination letters.",
    cls=LazyCommands,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    # A callback makes typer build a group even before any command is registered.
    pass


def load_command(name: str) -> Any:
    """The click command for ``name``, its module imported (which registers it on ``app``)."""
    from typer.main import get_command_from_info, get_command_name

    importlib.import_module(COMMANDS[name].module)
    for info in app.registered_commands:
        assert info.callback is not None
        if (info.name or get_command_name(info.callback.__name__)) == name:
            return get_command_from_info(
                info,
                pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=app.rich_markup_mode,
            )
    raise LookupError(f"{COMMANDS[name].module} registers no command {name!r}")


def _register() -> None:
    """Import every command module (tests that drive ``app`` through a runner)."""
    for entry in COMMANDS.values():
        importlib.import_module(entry.module)


def main() -> None:
    """Console entry point: library errors become one clean line and an exit code."""
    try:
        app()
    except ImrError as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(err.exit_code)
