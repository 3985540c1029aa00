"""The event loop of the commands that move traffic (forward, listen, trigger): uvloop where it
is installed (every platform but Windows, pyproject.toml), else asyncio's own.

Two relays side by side (20 in flight): CPU per delivery ~0.245 -> ~0.22 ms on uvloop (its
socket calls and callbacks are C), the same deliveries and captures byte for byte;
bench/trigger.py and bench/listen.py move within the machine's spread. One loop for all
three, so the suite tests each on the loop it runs on.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run", "uncancel"]

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`, on uvloop when it can be imported."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows, where uvloop does not build
        return asyncio.run(main)
    return uvloop.run(main)


def uncancel() -> None:
    """Forget a cancellation the current task caught on purpose, so its next awaits run
    normally (3.11+ counts cancellations; 3.10 has no count to take back)."""
    task = asyncio.current_task()
    if task is not None and sys.version_info >= (3, 11):
        task.uncancel()
