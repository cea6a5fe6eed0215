"""``imr-assist ask`` and ``imr-assist chat``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from imr_assist.cli import app
from imr_assist.cli.common import (
    ChromaOpt,
    IndexOpt,
    err,
    llm_flags,
    out,
    print_json,
    settings_from,
)

if TYPE_CHECKING:  # annotations only: --help and extract need no pydantic models
    from imr_assist.answer.chat import ChatSession
    from imr_assist.models import Answer
    from imr_assist.settings import Settings

LlmOpt = typer.Option(
    None, "--llm", help="Model to write answers, or 'none' for extractive [IMR_ASSIST_MODEL]"
)


def _settings(
    index: Path | None, chroma_url: str | None, llm: str | None, k: int | None
) -> Settings:
    return settings_from(index, chroma_url, k=k, **llm_flags(llm))


def render_answer(answer: Answer, streamed: bool = False) -> None:
    if not streamed:
        out.print(answer.answer, highlight=False, markup=False)
    for notice in answer.notices:
        err.print(f"[yellow]note:[/] {_esc(notice)}", highlight=False)
    if answer.citations:
        out.print("\n[bold]Sources[/]")
        for c in answer.citations:
            head = f"[{c.n}] {c.doc_id}"
            if c.treatment:
                head += f" - {c.treatment} ({c.decision})"
            out.print(f"[cyan]{_esc(head)}[/] chars {c.start}-{c.end}", highlight=False)
            out.print(f'    "{_esc(c.quote)}"', highlight=False)
    if answer.evidence:
        out.print("\n[bold]Closest passages[/]")
        for c in answer.evidence:
            out.print(f'[cyan]{_esc(c.doc_id)}[/]: "{_esc(c.quote[:400])}"', highlight=False)
    if answer.usage:
        u = answer.usage
        err.print(
            f"tokens: {u.get('prompt_tokens', 0)} in, {u.get('completion_tokens', 0)} out",
            highlight=False,
        )


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)


@app.command()
def ask(
    question: str = typer.Argument(..., help="A question about the indexed letters"),
    as_json: bool = typer.Option(False, "--json", help="Print the answer as JSON"),
    llm: str | None = LlmOpt,
    k: int | None = typer.Option(None, "--k", "-k", min=1, max=200, help="Passages to retrieve"),
    index: Path | None = IndexOpt,
    chroma_url: str | None = ChromaOpt,
) -> None:
    """Answer a question with verified citations from the letters."""
    from imr_assist.answer.service import Assistant

    assistant = Assistant(_settings(index, chroma_url, llm, k))
    answer, _ = assistant.ask(question)
    if as_json:
        print_json(answer.model_dump(mode="json"))
    else:
        render_answer(answer)


CHAT_HELP = """Commands:
  /sources   show the sources of the last answer
  /filters   show the filters in force
  /plan      show how the last question was read (the plan a follow-up edits)
  /reset     forget the conversation
  /help      this text
  /quit      leave (also Ctrl-D)"""


@app.command()
def chat(
    llm: str | None = LlmOpt,
    k: int | None = typer.Option(None, "--k", "-k", min=1, max=200),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Read questions from stdin, one per line (/reset forgets the context); "
        "print each answer as one line of JSON, the shape of `ask --json`",
    ),
    index: Path | None = IndexOpt,
    chroma_url: str | None = ChromaOpt,
) -> None:
    """Ask follow-up questions; each one inherits what the last one was about."""
    from imr_assist.answer.chat import ChatSession

    session = ChatSession(_settings(index, chroma_url, llm, k))
    if as_json:
        _chat_json(session)
        return
    interactive = sys.stdin.isatty()
    if interactive:
        _enable_history()
        out.print("imr-assist chat: ask about the indexed letters; /help for commands.")
    last: Answer | None = None
    pieces: list[str] = []  # the streamed draft of the current answer

    def on_delta(piece: str) -> None:
        pieces.append(piece)
        out.print(piece, end="", highlight=False, markup=False)

    while True:
        try:
            line = input("> " if interactive else "")
        except (EOFError, KeyboardInterrupt):
            break
        line = line.strip()
        if not line:
            continue
        if line.startswith("/"):
            cmd = line.split()[0].lower()
            if cmd in ("/quit", "/exit", "/q"):
                break
            if cmd == "/help":
                out.print(CHAT_HELP, highlight=False)
            elif cmd == "/reset":
                session.reset()
                last = None
                out.print("Conversation reset.")
            elif cmd == "/filters":
                out.print(str(session.filters_dict() or "none"), highlight=False, markup=False)
            elif cmd == "/plan":
                import json

                out.print(
                    json.dumps(session.plan_dict() or None, indent=2), highlight=False, markup=False
                )
            elif cmd == "/sources":
                if last is None or not last.citations:
                    out.print("No sources yet.")
                else:
                    render_answer(
                        last.model_copy(update={"notices": [], "usage": None}), streamed=True
                    )
            else:
                out.print(
                    f"Unknown command {cmd}; /help lists them.", highlight=False, markup=False
                )
            continue
        if not interactive:
            out.print(f"> {line}", highlight=False, markup=False)
        pieces.clear()
        answer = session.ask(line, on_delta=on_delta)
        if pieces:
            out.print()
            if answer.mode != "llm":
                # The streamed draft failed verification: replace it, and say so.
                out.print("[yellow]The draft above could not be verified.[/]")
                out.print(answer.answer, highlight=False, markup=False)
            elif "".join(pieces).strip() != answer.answer:
                # A re-asked answer, or the draft's citations renumbered: show what was verified.
                out.print("[yellow]Verified answer:[/]")
                out.print(answer.answer, highlight=False, markup=False)
        else:
            out.print(answer.answer, highlight=False, markup=False)
        for notice in answer.notices:
            err.print(f"[yellow]note:[/] {_esc(notice)}", highlight=False)
        if answer.citations:
            out.print(
                f"({len(answer.citations)} source(s); /sources to show them)", highlight=False
            )
        last = answer


def _chat_json(session: ChatSession) -> None:
    """``chat --json``: questions from stdin, one JSON answer per line on stdout."""
    import json

    for raw in sys.stdin:
        line = raw.strip()
        if not line:
            continue
        if line.startswith("/"):
            if line.split()[0].lower() == "/reset":
                session.reset()
            continue  # the other commands only show things, as the answers already do
        answer = session.ask(line)
        sys.stdout.write(json.dumps(answer.model_dump(mode="json"), ensure_ascii=False) + "\n")
        sys.stdout.flush()


def _enable_history() -> None:
    try:
        import readline  # noqa: F401  - line editing and history for input()
    except ImportError:
        pass
