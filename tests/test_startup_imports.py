"""What one-shot commands import: ``--help`` and ``extract`` never load the vector store,
the model runtime or the answer code, and an ``ask`` the catalog answers alone (a count,
a list, a group-by) never loads the store or the model (start-up time is mostly imports).

Each command runs in a fresh interpreter through the real entry point; the wrapper then
lists which of the heavy packages ended up in ``sys.modules``. Nothing here is timed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from imr_assist.samples import sample_paths

HEAVY = ("chromadb", "onnxruntime", "bm25s", "imr_assist.answer", "imr_assist.index")

WRAPPER = """
import json, sys
from imr_assist.cli import main
sys.argv = ["imr-assist", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
loaded = sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in HEAVY))
sys.stdout.flush()
print("\\nMODULES " + json.dumps(loaded))
"""


def loaded_modules(
    args: list[str], cwd: Path, heavy: tuple[str, ...] = HEAVY, env: dict[str, str] | None = None
) -> tuple[list[str], str]:
    """Modules under ``heavy`` loaded by ``imr-assist ARGS``, and what the command printed."""
    code = f"HEAVY = {heavy!r}\n" + WRAPPER
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    out, _, tail = proc.stdout.rpartition("\nMODULES ")
    assert tail, f"wrapper printed no module list; stderr:\n{proc.stderr}"
    return json.loads(tail), out


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--help"], id="help"),
        pytest.param(["ask", "--help"], id="ask-help"),
        pytest.param(["ingest", "--help"], id="ingest-help"),
    ],
)
def test_help_loads_no_store_model_or_answer_code(args: list[str], tmp_path: Path) -> None:
    loaded, out = loaded_modules(args, tmp_path)
    assert "Usage" in out  # the help was really printed
    assert loaded == []


def test_help_loads_no_parser_or_records(tmp_path: Path) -> None:
    """The parser's hundreds of regexes and the pydantic records wait for a command."""
    loaded, _ = loaded_modules(["--help"], tmp_path, heavy=("imr_assist.parse", "pydantic"))
    assert loaded == []


def test_extract_loads_no_store_model_or_answer_code(tmp_path: Path) -> None:
    letter = sample_paths()[0]
    loaded, out = loaded_modules(["extract", str(letter), "--format", "jsonl"], tmp_path)
    record = json.loads(out.strip().splitlines()[0])
    assert record["items"]  # the letter was really parsed
    assert loaded == []


def test_the_check_sees_an_import_when_there_is_one(tmp_path: Path) -> None:
    """``search`` needs the index code: the wrapper reports it, so an empty list above
    means the modules were absent, not that the check cannot see them."""
    loaded, _ = loaded_modules(["search", "norco", "--index", str(tmp_path / "none")], tmp_path)
    assert "imr_assist.index" in loaded


STORE_AND_MODEL = ("chromadb", "onnxruntime", "bm25s", "imr_assist.index.embed")


@pytest.mark.parametrize(
    "question",
    [
        pytest.param("How many Norco requests were upheld?", id="count"),
        pytest.param("What share of opioid requests were upheld?", id="share"),
        pytest.param("Which letters involve a knee injury?", id="letters"),
        pytest.param("Upheld and overturned counts by reviewer specialty", id="group-by"),
    ],
)
def test_a_catalog_answer_loads_no_store_or_model(
    question: str, sample_index: Path, tmp_path: Path
) -> None:
    """A count, a share, a list of letters or a group-by is answered from the catalog:
    the vector store, the embedding model and the lexical index are never loaded."""
    args = ["ask", question, "--json", "--llm", "none", "--index", str(sample_index)]
    loaded, out = loaded_modules(args, tmp_path, heavy=STORE_AND_MODEL)
    answer = json.loads(out)
    assert answer["answered"] and answer["citations"], answer["answer"]
    assert loaded == []


def test_an_answer_that_ranks_passages_loads_the_model_not_the_store(
    sample_index: Path, tmp_path: Path
) -> None:
    """'Why' ranks the reviewers' passages: the model loads to embed the question, but
    the few chunks the filters leave are scored from the catalog's copy of their
    vectors, so Chroma is never imported (it was about a second of a one-shot ask)."""
    args = ["ask", "Why are Norco requests upheld?", "--json", "--llm", "none"]
    loaded, out = loaded_modules(
        [*args, "--index", str(sample_index)], tmp_path, heavy=STORE_AND_MODEL
    )
    assert json.loads(out)["answered"]
    assert {"onnxruntime", "imr_assist.index.embed"} <= set(loaded)
    assert "chromadb" not in loaded


def test_above_the_exact_scoring_limit_the_store_answers(
    sample_index: Path, tmp_path: Path
) -> None:
    """With more candidate chunks than ``retrieval.exact_chunks`` (0 here), Chroma is
    opened and answers (so the check above can see it load), with the same answer."""
    args = ["ask", "Why are Norco requests upheld?", "--json", "--llm", "none"]
    argv = [*args, "--index", str(sample_index)]
    loaded, out = loaded_modules(
        argv, tmp_path, heavy=STORE_AND_MODEL, env={"IMR_ASSIST_EXACT_CHUNKS": "0"}
    )
    assert {"chromadb", "onnxruntime"} <= set(loaded)
    _, exact = loaded_modules(argv, tmp_path, heavy=STORE_AND_MODEL)
    assert json.loads(out)["answer"] == json.loads(exact)["answer"]


def test_the_help_lists_each_command_as_its_docstring_says() -> None:
    """``--help`` lists commands from ``COMMANDS`` without importing them: each summary
    there is the first line of the command's own docstring."""
    from imr_assist.cli import COMMANDS, load_command

    for name, entry in COMMANDS.items():
        command = load_command(name)
        assert (command.help or "").strip().splitlines()[0] == entry.summary, name
