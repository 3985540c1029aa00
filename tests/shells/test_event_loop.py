"""The commands' event loop (shells/event_loop.py): Ctrl+C as asyncio.run gives it, but never
in the middle of a callback."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys

from ofevents_cli.shells import event_loop

# A frame arrives (websockets checks its waiter, then sets it) and Ctrl+C lands in between:
# asyncio.run's own handler would cancel the waiter there, and set_result would raise.
RACE = """

async def main():
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()

    def frame_arrives():
        if not waiter.done():
            os.kill(os.getpid(), signal.SIGINT)
            waiter.set_result(None)

    loop.call_soon(frame_arrives)
    await waiter
    print("frame read")
    await asyncio.sleep(30)
    print("not interrupted")

"""

# Two Ctrl+C: the first cancels the run, which takes its time to clean up; the second ends it.
TWICE = """

async def main():
    loop = asyncio.get_running_loop()
    loop.call_later(0.1, os.kill, os.getpid(), signal.SIGINT)
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        print("cancelled, cleaning up", flush=True)
        loop.call_later(0.1, os.kill, os.getpid(), signal.SIGINT)
        await asyncio.sleep(30)
    print("not interrupted")

"""


def run_script(script: str) -> subprocess.CompletedProcess[str]:
    """`script` (which defines `main`) run by event_loop.run in a process of its own (signals
    are the main thread's); it prints "interrupted" when the run ends in KeyboardInterrupt."""
    program = ("import asyncio, os, signal\nfrom ofevents_cli.shells import event_loop\n"
               + script + "\ntry:\n    event_loop.run(main())\n"
               "except KeyboardInterrupt:\n    print('interrupted')\n")
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=20)


def test_ctrl_c_is_handled_between_callbacks_not_inside_one() -> None:
    """The callback that was running finishes (its future is set, no InvalidStateError
    traceback), then the run is cancelled and ends in KeyboardInterrupt."""
    done = run_script(RACE)
    assert done.stdout.split() == ["frame", "read", "interrupted"], done.stderr
    assert "Traceback" not in done.stderr and "InvalidStateError" not in done.stderr
    assert done.returncode == 0


def test_a_second_ctrl_c_ends_a_run_that_is_still_cleaning_up() -> None:
    """As asyncio.run: the first Ctrl+C cancels, the second raises KeyboardInterrupt at once."""
    done = run_script(TWICE)
    assert done.stdout.splitlines() == ["cancelled, cleaning up", "interrupted"], done.stderr
    assert "Traceback" not in done.stderr and done.returncode == 0


def test_a_run_leaves_the_signal_handlers_as_it_found_them() -> None:
    """A command's loop that handled SIGTERM and SIGINT (forward does) leaves the process's
    handlers as they were: a closed uvloop loop kept its own, which swallowed SIGTERM."""
    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, lambda: None)
        loop.add_signal_handler(signal.SIGINT, lambda: None)

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    event_loop.run(main())
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
