"""The vector file: appended rows read back by number, torn rows and a reset file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from imr_assist.index.vector_file import VectorFile


def test_rows_read_back_by_number_across_appends(tmp_path: Path) -> None:
    """A reader mapped before an append maps again for the new rows."""
    rng = np.random.default_rng(7)
    a, b = rng.random((5, 4), dtype=np.float32), rng.random((3, 4), dtype=np.float32)
    writer, reader = VectorFile(tmp_path / "v.f32"), VectorFile(tmp_path / "v.f32")
    assert writer.append(a) == 0
    got = reader.read(np.array([4, 0]), 4)
    assert got is not None and np.array_equal(got, a[[4, 0]])
    assert writer.append(b) == 5
    got = reader.read(np.array([6, 1]), 4)
    assert got is not None and np.array_equal(got, np.stack([b[1], a[1]]))
    assert reader.read(np.array([8]), 4) is None  # past the end: not a row


def test_a_torn_row_is_cut_before_the_next_append(tmp_path: Path) -> None:
    path = tmp_path / "v.f32"
    vf = VectorFile(path)
    vf.append(np.ones((2, 4), dtype=np.float32))
    with path.open("ab") as f:
        f.write(b"\0" * 6)  # a crash mid-row
    assert vf.rows(4) == 2
    assert vf.append(np.full((1, 4), 2, dtype=np.float32)) == 2
    assert path.stat().st_size == 3 * 16
    got = vf.read(np.array([2]), 4)
    assert got is not None and got.tolist() == [[2.0] * 4]


def test_a_reader_sees_a_new_file_after_a_reset(tmp_path: Path) -> None:
    """Rows are numbered from 0 again in a reset index's new file: a reader's old
    mapping must not answer for them."""
    path = tmp_path / "v.f32"
    writer, reader = VectorFile(path), VectorFile(path)
    writer.append(np.zeros((4, 4), dtype=np.float32))
    assert reader.read(np.array([3]), 4) is not None
    writer.remove()
    writer.append(np.full((2, 4), 5, dtype=np.float32))
    got = reader.read(np.array([1]), 4)
    assert got is not None and got.tolist() == [[5.0] * 4]


def test_rows_in_any_order_and_repeated(tmp_path: Path) -> None:
    """Rows asked out of order, or twice, come back as asked."""
    rng = np.random.default_rng(3)
    a = rng.random((9, 4), dtype=np.float32)
    vf = VectorFile(tmp_path / "v.f32")
    vf.append(a)
    asked = np.array([7, 2, 3, 4, 2, 8, 0])
    got = vf.read(asked, 4)
    assert got is not None and np.array_equal(got, a[asked])
