"""The catalog's copy of the chunk vectors: float32 rows appended to one file.

A filtered question scores its candidates exactly from here. Read from SQLite, a
1.5 KB vector costs about 4 us (two B-tree descents and a blob copy; 17,000 of them,
the item chunks of the upheld opioid decisions at 100,000 letters, took 70-110 ms);
from this file, 15-25 ms.

The file is append-only, and only the ingest (which holds the writer lock) appends.
Rows are written and flushed to disk before the catalog transaction that names them
commits, so a committed row always exists; a crash between the two leaves rows no
catalog row names, which cost space and nothing else. A replaced letter's old rows
stay unnamed in the same way. Readers check the file's length (and identity: a reset
index has a new one) before each read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

VECTOR_FILE = "vectors.f32"


class VectorFile:
    """Rows of ``dim`` float32 values in ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._file: tuple[int, int] | None = None

    def rows(self, dim: int) -> int:
        """Whole rows the file holds now (a torn last row does not count)."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return 0
        return size // (4 * dim)

    def append(self, matrix: np.ndarray) -> int:
        """Write the rows of ``matrix`` at the end and flush them to disk; the first
        one's number. A torn row left by a crash is cut off first."""
        import numpy as np

        data = np.ascontiguousarray(matrix, dtype=np.float32)
        dim = data.shape[1]
        first = self.rows(dim)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            os.ftruncate(fd, first * 4 * dim)
            os.lseek(fd, 0, os.SEEK_END)
            view = memoryview(data.tobytes())
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        return first

    def read(self, rows: np.ndarray, dim: int) -> np.ndarray | None:
        """The float32 matrix of ``rows`` (numbers as ``append`` returned them), or None
        if one lies past the end of the file.

        Read with one ``preadv`` per run of consecutive rows (an item's chunks are one
        run). Mapping the file was no faster, and each row read mapped the pages around
        it into the process: 17,000 rows added 340 MB to its resident size."""
        import numpy as np

        n = len(rows)
        if not n:
            return np.zeros((0, dim), dtype=np.float32)
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        file = (st.st_dev, st.st_ino)  # a reset index has a new file, numbered from 0
        if int(rows.max()) >= st.st_size // (4 * dim):
            return None
        if self._fd is None or self._file != file:
            self.close()
            self._fd = os.open(self.path, os.O_RDONLY)
            self._file = file
        order = None
        if n > 1 and bool(np.any(rows[1:] < rows[:-1])):
            order = np.argsort(rows, kind="stable")
            rows = rows[order]
        width = 4 * dim
        out = np.empty((n, dim), dtype=np.float32)
        view = out.data.cast("B")
        breaks = (np.flatnonzero(np.diff(rows) != 1) + 1).tolist()
        for a, b in zip([0, *breaks], [*breaks, n], strict=True):
            want = (b - a) * width
            if os.preadv(self._fd, [view[a * width : b * width]], int(rows[a]) * width) != want:
                return None  # the file was cut short meanwhile
        if order is not None:
            back = np.empty_like(out)
            back[order] = out
            out = back
        return out

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def remove(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)
