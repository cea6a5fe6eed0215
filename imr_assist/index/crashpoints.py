"""Named points of an ingest where a test can make the process signal itself.

Crash and interrupt tests must not depend on how fast the machine is: instead of
killing ``imr-assist ingest`` after a timer, they set

- ``IMR_ASSIST_TEST_KILL_AT=<point>`` (or ``<point>@<n>``: the n-th time it is
  reached, counting from 1), and optionally
- ``IMR_ASSIST_TEST_KILL_SIGNAL=INT`` (default ``KILL``),

and the ingest sends that signal to itself when it reaches the point. Unset, the
check is one dictionary lookup. The points, in the order an ingest reaches them:

``locked``
    The writer lock is held; nothing of the index has been written yet.
``opened``
    The catalog exists, the embedder is recorded, orphans are cleaned up.
``pending``, ``upsert``, ``filed``, ``commit``, ``batch``
    Per batch: its chunk ids recorded as pending; its vectors stored; their copies
    appended to the vector file; its letters committed to the catalog; the batch
    finished (replaced vectors deleted).
``lexical-saved``, ``lexical-switched``
    A new BM25 index written beside the current one; the pointer switched to it.
``done``
    Everything written; the ingest is about to return.
"""

from __future__ import annotations

import os
import signal

ENV_POINT = "IMR_ASSIST_TEST_KILL_AT"
ENV_SIGNAL = "IMR_ASSIST_TEST_KILL_SIGNAL"
POINTS = (
    "locked",
    "opened",
    "pending",
    "upsert",
    "filed",
    "commit",
    "batch",
    "lexical-saved",
    "lexical-switched",
    "done",
)

_seen: dict[str, int] = {}


def reached(point: str) -> None:
    """Signal this process if the environment names ``point`` (see the module docstring)."""
    assert point in POINTS, point
    spec = os.environ.get(ENV_POINT)
    if not spec:
        return
    name, _, nth = spec.partition("@")
    if name != point:
        return
    _seen[point] = _seen.get(point, 0) + 1
    if _seen[point] != int(nth or 1):
        return
    sig = os.environ.get(ENV_SIGNAL, "KILL").upper().removeprefix("SIG")
    os.kill(os.getpid(), getattr(signal, f"SIG{sig}"))
