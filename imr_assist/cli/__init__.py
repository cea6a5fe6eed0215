"""The ``imr-assist`` command: a thin typer adapter over the library."""

from __future__ import annotations

import sys

import typer

from imr_assist.errors import ImrError

app = typer.Typer(
    name="imr-assist",
    help="Parse, index and question California workers' compensation IMR determination letters.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from imr_assist.cli import answers, evaluate, extract, indexing, reports, synth  # noqa: F401


def main() -> None:
    """Console entry point: library errors become one clean line and an exit code."""
    _register()
    try:
        app()
    except ImrError as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(err.exit_code)
