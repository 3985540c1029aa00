"""Appending capture records: one JSON line per delivery, flushed at once so a crash loses none."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from ofevents_cli.core.capture import MAX_LINE, Capture, CaptureProblem, read_captures
from ofevents_cli.core.history_record import HistoryRecord
from ofevents_cli.errors import InputError


def read_capture_file(source: str, *, lean: bool = False
                      ) -> Iterator[Capture | CaptureProblem]:
    """Stream the records of a capture file (`-` is stdin), read as bytes so that a line that is
    not UTF-8 is reported on its own; OSError (unreadable file) is the caller's to report.
    `lean`: without the optional records (core/capture.py)."""
    if source == "-":
        yield from read_captures(bounded_lines(sys.stdin.buffer), lean=lean)
        return
    with Path(source).open("rb") as handle:
        yield from read_captures(bounded_lines(handle), lean=lean)


def bounded_lines(handle: BinaryIO) -> Iterator[bytes | None]:
    """The lines of `handle`, None for one over MAX_LINE: its bytes are read past, never held,
    so endless input with no newline (`< /dev/zero`) costs no memory."""
    while text := handle.readline(MAX_LINE + 1):
        if len(text) <= MAX_LINE or text.endswith(b"\n"):
            yield text
            continue
        while text and not text.endswith(b"\n"):
            text = handle.readline(1024 * 1024)
        yield None


class CaptureFile:
    """An open capture file in append mode."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            # unbuffered: one write per record, so a failed one leaves nothing queued behind
            self._handle = self.path.open("ab", buffering=0)
        except OSError as exc:
            raise InputError(f"cannot write capture file {self.path}: {exc.strerror or exc}",
                             "choose another path (--capture / --save)") from None

    def append(self, capture: HistoryRecord) -> None:
        """Write one record at once (OSError when it cannot: disk full, …)."""
        data = memoryview(capture.to_line())
        while data:
            written = self._handle.write(data)
            if not written:
                raise OSError(f"{self.path} took no bytes")
            data = data[written:]

    def close(self) -> None:
        """Close; never raises (a failed write was already reported)."""
        with contextlib.suppress(OSError):
            self._handle.close()

    def __enter__(self) -> CaptureFile:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
