"""``imr-assist extract``: JSON, JSONL and CSV output; a bad file fails alone."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from imr_assist.cli import _register, app
from imr_assist.samples import sample_paths, samples_dir

_register()


def test_extract_formats() -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["extract", str(samples_dir())])
    assert res.exit_code == 0
    records = json.loads(res.stdout)
    assert [len(r["items"]) for r in records] == [1, 3, 2, 2, 4]
    res = runner.invoke(app, ["extract", str(samples_dir() / "*.txt"), "--format", "jsonl"])
    assert len(res.stdout.splitlines()) == 5
    res = runner.invoke(app, ["extract", str(sample_paths()[4]), "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [(r["name"], r["decision"]) for r in rows] == [
        ("Norco", "upheld"),
        ("Amitriptyline", "overturned"),
        ("Baclofen", "overturned"),
        ("Butrans", "overturned"),
    ]


def test_extract_partial_failure(tmp_path: Path) -> None:
    shutil.copy(sample_paths()[0], tmp_path / "good.txt")
    (tmp_path / "bad.txt").write_bytes(b"\x00\x01\x02binary")
    out = tmp_path / "out.json"
    res = CliRunner().invoke(app, ["extract", str(tmp_path), "--out", str(out)])
    assert res.exit_code == 1
    assert "bad.txt" in res.stderr and len(json.loads(out.read_text())) == 1
