"""The cyclic garbage collector paused for one bounded piece of work.

Answering one question at 100,000 letters builds tens of thousands of short-lived
objects (catalog rows, their wrappers) that hold no reference cycles; each few hundred
allocations start a collector pass, and passes over the whole heap (the index, the
model, Chroma's modules) took a fifth to a third of such a question. The work is
bounded, so its cycles (few) wait for the first collection after it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """The collector off inside, back as it was after (nested uses keep it off)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
