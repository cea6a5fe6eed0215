"""What the CLI says when it falls back to a default or cannot find what it was given."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from imr_assist.cli import main
from imr_assist.samples import sample_paths, samples_dir


def run_main(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["imr-assist", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), captured.out, captured.err


def test_ingest_without_a_path_says_it_uses_the_bundled_samples(
    sample_index: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "ix"
    shutil.copytree(sample_index, root)  # already holds the samples: nothing to embed
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(["ingest", "--index", str(root)], monkeypatch, capsys)
    assert code == 0, err
    assert err.splitlines()[0] == (
        f"no path given: ingesting the {len(sample_paths())} bundled sample letters "
        f"({samples_dir()})"
    )
    assert "5 skipped as unchanged" in out


def test_ingest_with_a_path_says_nothing_about_samples(
    sample_index: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "ix"
    shutil.copytree(sample_index, root)
    code, _, err = run_main(
        ["ingest", str(samples_dir()), "--index", str(root)], monkeypatch, capsys
    )
    assert code == 0 and "bundled sample" not in err


@pytest.mark.parametrize(
    "arg, problem",
    [
        pytest.param("{tmp}/missing/file.txt", "file not found", id="missing-txt"),
        pytest.param("{tmp}/letter.pdf", "file not found", id="missing-pdf"),
        pytest.param("{tmp}/folder/", "is a folder, not a letter file", id="folder"),
    ],
)
def test_digest_of_a_missing_file_names_the_file(
    arg: str,
    problem: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "folder").mkdir()
    path = arg.format(tmp=tmp_path)
    # No index anywhere: the message must be about the file, not the index.
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(["digest", path], monkeypatch, capsys)
    assert code == 1 and out == ""
    assert err == f"error: {path}: {problem}\n"


def test_digest_of_an_unknown_case_id_still_names_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run_main(["digest", "CM15-0000000"], monkeypatch, capsys)
    assert code == 1
    assert err.startswith("error: no index at index;")
