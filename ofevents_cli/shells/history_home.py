"""The history home: where `forward`, `trigger --save` and `listen --keep` keep what arrived.

One capture file per session (`forward-20261123T143012Z-7f3a9c.jsonl`), continued in a new
part (`….2.jsonl`) once it reaches `ROTATE_BYTES`, in a directory only its owner can read:
payloads hold fans' messages. `OFEVENTS_HISTORY_DIR` overrides the platform's state dir.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

from ofevents_cli.core.frames import Event
from ofevents_cli.core.history_record import HistoryRecord, KeptEvent
from ofevents_cli.errors import InputError
from ofevents_cli.shells.capture_file import CaptureFile

__all__ = ["HISTORY_ENV", "ROTATE_BYTES", "EventKeeper", "HistoryFile", "history_dir",
           "history_files", "open_capture", "session_path"]

HISTORY_ENV = "OFEVENTS_HISTORY_DIR"
ROTATE_BYTES = 64 * 1024 * 1024


def history_dir() -> Path:
    """`$OFEVENTS_HISTORY_DIR`, else `history/` in the platform's per-user state directory."""
    override = os.environ.get(HISTORY_ENV)
    if override:
        return Path(override).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_STATE_HOME") or home / ".local" / "state")
    return base / "ofevents" / "history"


def history_files(directory: Path) -> list[Path]:
    """The capture files of a history directory (none when it does not exist yet)."""
    try:
        return sorted(p for p in directory.iterdir() if p.suffix == ".jsonl" and p.is_file())
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise InputError(f"cannot read the history directory {directory}: "
                         f"{exc.strerror or exc}", f"fix its permissions, or set {HISTORY_ENV}"
                         ) from None


def session_path(kind: str, now: float) -> Path:
    """A new session's first file in the history home (created 0700 if missing)."""
    directory = history_dir()
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the history directory {directory}: "
                         f"{exc.strerror or exc}",
                         f"set {HISTORY_ENV} to a writable directory, or name a file "
                         "(--capture / --save / --keep FILE)") from None
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    return directory / f"{kind}-{stamp}-{os.urandom(3).hex()}.jsonl"


class HistoryFile(CaptureFile):
    """A session's capture file that moves on to a new part once it holds `max_bytes`."""

    def __init__(self, path: Path, max_bytes: int = ROTATE_BYTES) -> None:
        super().__init__(path)
        self.first = self.path
        self.max_bytes = max_bytes
        self.parts = 1

    def append(self, capture: HistoryRecord) -> None:
        """Write one record; the next one goes to a new part when this one is full."""
        super().append(capture)
        if self._handle.tell() >= self.max_bytes:
            self.close()
            self.parts += 1
            CaptureFile.__init__(self, self.first.with_name(
                f"{self.first.stem}.{self.parts}{self.first.suffix}"))


def open_capture(path: Path, rotate: bool) -> CaptureFile:
    """The capture file to write: a history session rotates by size, a `--capture FILE` never."""
    return HistoryFile(path) if rotate else CaptureFile(path)


class EventKeeper:
    """`listen --keep`: each event appended as an event record; a failed write is counted
    and its reason returned (the stream goes on)."""

    def __init__(self, path: Path, rotate: bool) -> None:
        self.existed = path.exists()
        self.file = open_capture(path, rotate)
        self.failed = 0

    def keep(self, event: Event, received: float) -> str | None:
        """Append one event; why it could not be, or None."""
        try:
            self.file.append(KeptEvent.kept(event, received))
        except OSError as exc:
            self.failed += 1
            return f"could not keep event {event.id} in {self.file.path}: {exc.strerror or exc}"
        return None

    def close(self) -> None:
        """Close the file, and remove it if this session made it and kept nothing in it."""
        self.file.close()
        with contextlib.suppress(OSError):
            if not self.existed and self.file.path.stat().st_size == 0:
                self.file.path.unlink()
