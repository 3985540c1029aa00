"""The event loop of the commands that move traffic (forward, listen, trigger): uvloop where it
is installed (every platform but Windows, pyproject.toml), else asyncio's own.

Two relays side by side (20 in flight): CPU per delivery ~0.245 -> ~0.22 ms on uvloop (its
socket calls and callbacks are C), the same deliveries and captures byte for byte;
bench/trigger.py and bench/listen.py move within the machine's spread. One loop for all
three, so the suite tests each on the loop it runs on.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run", "uncancel"]

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`, on uvloop when it can be imported, Ctrl+C included (see
    `_interruptible`). The SIGINT and SIGTERM handlers are left as they were found: a closed
    uvloop loop leaves its own behind for every signal it handled, which then swallows them
    (a forked worker would ignore the SIGTERM that ends it)."""
    saved = _handlers()
    try:
        try:
            import uvloop
        except ImportError:  # pragma: no cover - Windows, where uvloop does not build
            return asyncio.run(_interruptible(main))
        return uvloop.run(_interruptible(main))
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _handlers() -> dict[signal.Signals, Any]:
    """The handlers of the signals a run handles (none off the main thread: it cannot set
    them, nor can the loop)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}


async def _interruptible(main: Coroutine[Any, Any, T]) -> T:
    """`main`, with Ctrl+C handled as asyncio.run handles it (the first cancels `main`, which
    then ends in KeyboardInterrupt; the second raises KeyboardInterrupt at once) but delivered
    by the loop, between callbacks. asyncio.run cancels from a Python signal handler, which
    runs between any two bytecodes: in the middle of websockets' `if not waiter.done():
    waiter.set_result(…)`, the cancel made that set_result raise (a traceback on Ctrl+C)."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(main)
    interrupted = False

    def interrupt() -> None:
        nonlocal interrupted
        if interrupted:
            raise KeyboardInterrupt
        interrupted = True
        task.cancel()

    try:
        loop.add_signal_handler(signal.SIGINT, interrupt)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread (tests)
        return await task
    try:
        return await task
    except asyncio.CancelledError:
        if interrupted:
            raise KeyboardInterrupt from None
        raise
    finally:
        with contextlib.suppress(RuntimeError):  # the loop may be closing
            loop.remove_signal_handler(signal.SIGINT)


def uncancel() -> None:
    """Forget a cancellation the current task caught on purpose, so its next awaits run
    normally (3.11+ counts cancellations; 3.10 has no count to take back)."""
    task = asyncio.current_task()
    if task is not None and sys.version_info >= (3, 11):
        task.uncancel()
