"""Ctrl+C and SIGTERM as the normal end of a long-running command (`forward`, `worker`)."""

from __future__ import annotations

import asyncio
import contextlib
import signal

__all__ = ["stop_on_signals"]


def stop_on_signals(stop: asyncio.Event, force: asyncio.Event) -> None:
    """Ctrl+C and SIGTERM end the run cleanly (set `stop`) instead of raising; a second one
    sets `force`: stop waiting for the deliveries in flight."""
    loop = asyncio.get_running_loop()

    def signalled() -> None:
        (force if stop.is_set() else stop).set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, signalled)
