"""Working through a large file on every core: cut at line ends, chunks handed to forked worker
processes, results back in file order.

Verifying spends its time in Python per line, one core at a time; a capture file of many
deliveries is split into CHUNK-sized pieces that end at a line end, and at most two per worker
are read ahead, so memory stays flat however large the file.
"""

from __future__ import annotations

import os
import signal
import stat
from collections import deque
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from multiprocessing.pool import AsyncResult

__all__ = ["CHUNK", "MIN_SIZE", "cores", "in_workers", "pieces", "worth_splitting"]

CHUNK = 1 << 20
MIN_SIZE = 4 * CHUNK  # smaller files are done before workers would have started
T = TypeVar("T")
J = TypeVar("J")


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worth_splitting(path: str) -> bool:
    """A regular file big enough for workers to pay off (stdin, pipes, small files: no; a
    path that cannot be looked at: no, the one-process reader says what is wrong)."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size >= MIN_SIZE


def pieces(handle: IO[bytes], size: int = CHUNK) -> Iterator[tuple[bytes, int]]:
    """(piece, number of its first line) in file order: each piece ends at a line end (the
    last one where the file does), a line longer than `size` stays whole."""
    line = 1
    carry = b""
    while block := handle.read(size):
        data = carry + block if carry else block
        cut = data.rfind(b"\n") + 1
        if not cut:  # no line end yet: keep reading
            carry = data
            continue
        piece, carry = data[:cut], data[cut:]
        yield piece, line
        line += piece.count(b"\n")
    if carry:
        yield carry, line


def _ignore_interrupt() -> None:
    """A worker leaves Ctrl+C to its parent, which stops them all."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def in_workers(path: str, work: Callable[[J, bytes, int], T], job: J, workers: int
               ) -> Iterator[T]:
    """`work(job, piece, first_line)` for every piece of the file, each in a forked worker,
    the results in file order. `work` is a module-level function (sent by name); OSError when
    the file cannot be read."""
    import multiprocessing  # here: a run that needs no workers does not load it

    context = multiprocessing.get_context("fork")
    with open(path, "rb") as handle, context.Pool(workers, _ignore_interrupt) as pool:
        pending: deque[AsyncResult[T]] = deque()
        for piece, first in pieces(handle):
            pending.append(pool.apply_async(work, (job, piece, first)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
