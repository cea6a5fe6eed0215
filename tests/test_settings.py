"""The settings tree: sections, flags over environment over defaults, the documented
variable names, messages that name the setting, and the index fingerprint."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imr_assist.errors import ConfigError
from imr_assist.settings import ENV, FLAT, Settings, openai_environment

PACKAGE = Path(__file__).resolve().parents[1] / "imr_assist"
README = Path(__file__).resolve().parents[1] / "README.md"


def test_sections_hold_every_setting_with_a_description() -> None:
    s = Settings()
    for name in ("index", "chunking", "embedding", "retrieval", "answer", "llm", "openai"):
        section = getattr(s, name)
        for field, info in type(section).model_fields.items():
            assert info.description, f"{name}.{field} has no description"


def test_flags_win_over_the_environment_which_wins_over_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IMR_ASSIST_K", "5")
    monkeypatch.setenv("IMR_ASSIST_INDEX", "/from/env")
    s = Settings.load(index_dir="/from/flag")
    assert (s.retrieval.k, s.index.dir) == (5, Path("/from/flag"))
    assert Settings.load().index.dir == Path("/from/env")
    assert Settings().retrieval.k == 8  # Settings(...) alone reads no environment


@pytest.mark.parametrize(("name", "var"), sorted(ENV.items()))
def test_each_documented_variable_sets_its_field(
    monkeypatch: pytest.MonkeyPatch, name: str, var: str
) -> None:
    value = {
        "embedder": "openai",
        "llm_timeout": "7.5",
        "llm_max_retries": "2",
        "llm_evidence_tokens": "1200",
        "llm_max_tokens": "300",
        "llm_read_plans": "True",
    }.get(name, "12")
    if name in ("index_dir", "chroma_url", "embed_model_path", "embed_api_model"):
        value = "x12"
    if name in ("embed_base_url", "openai_base_url"):
        value = "http://127.0.0.1:9/v1"
    monkeypatch.setenv(var, value)
    s = Settings.load()
    section, field, _ = FLAT[name]
    got = getattr(getattr(s, section), field)
    shown = got.get_secret_value() if hasattr(got, "get_secret_value") else got
    assert str(shown) == value


def test_the_readme_documents_the_variables_that_work() -> None:
    documented = set(re.findall(r"\b(?:IMR_ASSIST|OPENAI)_[A-Z_]+\b", README.read_text()))
    assert documented <= set(ENV.values())


def test_an_empty_variable_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMR_ASSIST_K", "")
    assert Settings.load().k == 8


def test_a_bad_value_names_its_flag_and_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMR_ASSIST_K", "many")
    with pytest.raises(ConfigError, match=r"setting k \(flag or IMR_ASSIST_K\)"):
        Settings.load()
    monkeypatch.delenv("IMR_ASSIST_K")
    with pytest.raises(ConfigError, match=r"setting llm_max_retries \(flag or"):
        Settings.load(llm_max_retries=99)
    with pytest.raises(ConfigError, match=r"setting answer\.max_listed"):
        Settings().with_flags(answer={"max_listed": 0})


def test_flat_names_construct_copy_and_read() -> None:
    s = Settings(index_dir="ix", llm_enabled=False, k=3)
    assert (s.index.dir, s.llm.enabled, s.retrieval.k) == (Path("ix"), False, 3)
    assert (s.index_dir, s.llm_enabled, s.k) == (Path("ix"), False, 3)
    t = s.model_copy(update={"llm_model": "m", "llm_enabled": True})
    assert (t.llm.model, t.use_llm, t.index_dir) == ("m", True, Path("ix"))
    assert s.llm.model is None  # the copy is a copy
    with pytest.raises(ValueError):
        Settings(no_such_setting=1)


def test_the_key_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-123")
    s = Settings.load()
    assert s.api_key() == "sk-secret-123" == openai_environment().key()
    assert "sk-secret" not in repr(s) and "sk-secret" not in str(s.model_dump())


def test_the_fingerprint_changes_with_what_shapes_the_index() -> None:
    base = Settings().index_fingerprint("onnx:all-MiniLM-L6-v2")
    assert base == Settings(k=20).index_fingerprint("onnx:all-MiniLM-L6-v2")
    assert base != Settings().index_fingerprint("openai:text-embedding-3-small")
    assert base != Settings(chunking={"version": 2}).index_fingerprint("onnx:all-MiniLM-L6-v2")
    assert base != Settings(chunking={"overlap_tokens": 0}).index_fingerprint(
        "onnx:all-MiniLM-L6-v2"
    )
    assert "chunker v1, overlap 32" in base


def test_settings_is_the_only_reader_of_the_environment() -> None:
    # The crash-point hook (index/crashpoints.py) is a test instrument read by name, and
    # the two chromadb modules set chromadb's telemetry default; nothing else reads it.
    allowed = {"settings.py", "crashpoints.py"}
    readers = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            if re.search(r"os\.environ(?!\.setdefault)|os\.getenv|getenv\(", line):
                if path.name not in allowed:
                    readers.append(f"{path.relative_to(PACKAGE)}: {line.strip()}")
    assert readers == []


def test_an_index_records_its_fingerprint_and_refuses_another_chunker(tmp_path: Path) -> None:
    from imr_assist.errors import IndexStateError
    from imr_assist.index.index import Index
    from imr_assist.index.ingest import ingest
    from imr_assist.samples import sample_paths

    root = tmp_path / "ix"
    letter = [str(sample_paths()[0])]
    assert ingest(letter, Settings(index_dir=root)).letters_indexed == 1
    idx = Index.open(Settings(index_dir=root))
    assert idx.catalog.get_meta("chunker") == "chunker v1, overlap 32"
    assert idx.catalog.get_meta("fingerprint") == Settings().index_fingerprint(idx.embedder.name)
    idx.catalog.close()

    newer = Settings(index_dir=root, chunking={"version": 2})
    with pytest.raises(IndexStateError) as err:
        Index.open(newer)
    assert str(err.value) == (
        f"index at {root} was built with chunker v1, overlap 32, not chunker v2, overlap 32; "
        f"rebuild it with `imr-assist ingest PATH --index {root} --reset`"
    )
    with pytest.raises(IndexStateError, match="--reset"):
        ingest(letter, newer)
    assert ingest(letter, newer, reset=True).letters_indexed == 1
    assert Index.open(newer).catalog.get_meta("chunker") == "chunker v2, overlap 32"
