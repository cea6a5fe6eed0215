"""The catalog's copy of the chunk vectors: float32 rows appended to one file.

A filtered question scores its candidates exactly from here. Read from SQLite, a
1.5 KB vector costs about 4 us (two B-tree descents and a blob copy; 17,000 of them,
the item chunks of the upheld opioid decisions at 100,000 letters, took 70-110 ms);
from this file, mapped into memory, the rows are one fancy index.

The file is append-only, and only the ingest (which holds the writer lock) appends.
Rows are written and flushed to disk before the catalog transaction that names them
commits, so a committed row always exists; a crash between the two leaves rows no
catalog row names, which cost space and nothing else. A replaced letter's old rows
stay unnamed in the same way. Readers map the file and map it again when a committed
row lies past their mapping (the file grew since).
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
        self._map: np.ndarray | None = None
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
        if one lies past the end of the file."""
        import numpy as np

        if not len(rows):
            return np.zeros((0, dim), dtype=np.float32)
        last = int(rows.max())
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        file = (st.st_dev, st.st_ino)  # a reset index has a new file, numbered from 0
        if (
            self._map is None
            or self._file != file
            or self._map.shape[1] != dim
            or last >= self._map.shape[0]
        ):
            self._map = None
            n = st.st_size // (4 * dim)
            if last >= n:
                return None
            self._map = np.memmap(self.path, dtype=np.float32, mode="r", shape=(n, dim))
            self._file = file
        return np.asarray(self._map[rows])

    def close(self) -> None:
        self._map = None

    def remove(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)
