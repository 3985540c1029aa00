"""How `listen` shows what the client shell yields: one line per event, states on stderr."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ofevents_cli.core import frames
from ofevents_cli.core.exit_policy import ListenTally
from ofevents_cli.core.stream import (
    Connected,
    Connecting,
    Disconnected,
    EventReceived,
    Gap,
    Problem,
    Reconnecting,
)
from ofevents_cli.formats import Format
from ofevents_cli.render.output import colour, say
from ofevents_cli.render.sinks import SinkView
from ofevents_cli.render.text import count, escape_control, money, safe

if TYPE_CHECKING:  # the forwarder is loaded only by `listen --forward-to` (see Renderer.other)
    from ofevents_cli.shells.forwarder import Delivered


def _user(d: Mapping[str, Any], key: str) -> str:
    return safe(str(d.get(key, "?")), 24)


def _name(user: object) -> str:
    if isinstance(user, dict):
        return safe(str(user.get("name") or user.get("username") or user.get("id")), 24)
    return "?"


def _chat(d: Mapping[str, Any]) -> str:
    price = d.get("price")
    paid = f" [{money(price)}]" if isinstance(price, (int, float)) and price else ""
    media = f" +{len(d['media'])} media" if isinstance(d.get("media"), list) and d["media"] else ""
    return (f"{_name(d.get('fromUser'))} → {_name(d.get('toUser'))}: "
            f"\"{safe(str(d.get('text', '')), 60)}\"{paid}{media}")


def _counts(d: Mapping[str, Any]) -> str:
    chats, notes = d.get("chats"), d.get("notifications")
    chats = chats if isinstance(chats, dict) else {}
    notes = notes if isinstance(notes, dict) else {}
    return (f"{safe(str(chats.get('unread', '?')))} unread chats "
            f"({safe(str(chats.get('priority', '?')))} priority), "
            f"{safe(str(notes.get('new', '?')))} new notifications")


def _subscriber(d: Mapping[str, Any]) -> str:
    trial = " (trial)" if d.get("isTrial") else ""
    return f"user {_user(d, 'userId')} at {money(d.get('price'))}{trial}"


def _tip(d: Mapping[str, Any]) -> str:
    note = safe(str(d.get("message") or ""), 50)
    where = f" on {safe(str(d['context']), 12)}" if d.get("context") else ""
    return (f"{money(d.get('amount'))} from user {_user(d, 'userId')}{where}"
            + (f": \"{note}\"" if note else ""))


SUMMARIES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "chat_message": _chat,
    "system_message": lambda d: f"\"{safe(str(d.get('text', '')), 70)}\"",
    "online": lambda d: (f"user {_user(d, 'userId')} "
                         + ("online" if d.get("isOnline") else "offline")),
    "counts": _counts,
    "typing": lambda d: (f"user {_user(d, 'userId')} "
                         + ("typing" if d.get("isTyping") else "stopped typing")),
    "chat_message_like": lambda d: (f"user {_user(d, 'userId')} liked message "
                                    f"{_user(d, 'messageId')}"),
    "chat_message_unlike": lambda d: (f"user {_user(d, 'userId')} unliked message "
                                      f"{_user(d, 'messageId')}"),
    "tip": _tip,
    "new_subscriber": _subscriber,
    "returning_subscriber": _subscriber,
    "ppv_purchase": lambda d: (f"user {_user(d, 'userId')} bought message "
                               f"{_user(d, 'messageId')} for {money(d.get('price'))}"),
    "ppv_sent": lambda d: (f"message {_user(d, 'messageId')} to user {_user(d, 'toUserId')}"
                           f", {_user(d, 'mediaCount')} media, {money(d.get('price'))}"),
}


def summary(event: frames.Event) -> str:
    """The two or three fields that matter for this type of event, safe for a terminal."""
    show = SUMMARIES.get(event.event)
    if show:
        return show(event.data)
    return ", ".join(f"{escape_control(k)}={safe(str(v), 20)}" for k, v in
                     list(event.data.items())[:3])


# event type -> ANSI colour on a terminal: money green, subscribers magenta, chat cyan
_COLOURS = {"tip": "32", "ppv_purchase": "32", "new_subscriber": "35",
            "returning_subscriber": "35", "chat_message": "36", "ppv_sent": "34"}


def line(event: frames.Event, colour: bool = False) -> str:
    """`10:30:00  384751629  tip                  $25.00 from user 562630475`."""
    clock = escape_control(event.ts[11:19] if len(event.ts) >= 19 else event.ts)
    name = f"{escape_control(event.event):<21}"
    if colour:
        name = f"\x1b[{_COLOURS.get(event.event, '2')}m{name}\x1b[0m"
    return f"{clock}  {escape_control(event.account_id):<10} {name} {summary(event)}"


def delivery_line(d: Delivered) -> str:
    """`<-- [200] POST http://localhost:3000/webhooks 12 ms` (plus retry or failure note)."""
    what = f"[{d.status}]" if d.status is not None else f"[{d.error}]"
    text = f"<-- {what} POST {d.url} {d.ms:.0f} ms  {d.event.event} {d.event.id}"
    if d.dropped:
        text = f"!! not forwarded {d.event.id}: {d.error}"
    elif d.retry_in is not None:
        text += f"  (attempt {d.attempt}, retrying in {d.retry_in:.1f} s)"
    elif d.failed:
        text += f"  (gave up after {d.attempt} attempts)"
    return escape_control(text)  # the event's type and id are the server's text


class Renderer:
    """Prints what the shells yield: events on stdout (human lines or JSON), the rest on stderr;
    it counts what the exit code depends on in the tally."""

    def __init__(self, fmt: Format, tally: ListenTally) -> None:
        self.as_json = fmt is Format.JSON
        self.colour = colour()
        self.tally = tally
        self.pending: list[bytes] = []  # UTF-8 lines, written in one go by `flush`
        self.sinks = SinkView(tally.sinks)  # routes and sinks (--route, --sink)

    def flush(self) -> None:
        """Write the event lines held so far to stdout in one go (called once per burst).

        BrokenPipeError when the reader went away (`listen | head`): stdout is pointed at
        /dev/null first, so the interpreter's own flush at exit cannot fail again.
        """
        try:
            if self.pending:
                self.pending.append(b"")
                sys.stdout.buffer.write(b"\n".join(self.pending))
                self.pending.clear()
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            self.pending.clear()
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, sys.stdout.fileno())
            finally:
                os.close(devnull)
            raise

    def finish(self) -> None:
        """The closing summary on stderr: how many events were not forwarded, if any."""
        if self.tally.undelivered:
            say(f"!! {count(self.tally.undelivered, 'event')} not forwarded")
        for line in self.sinks.summary():
            say(line)

    def show(self, value: object) -> None:
        """Render one value from the client, the forwarder or the command."""
        if isinstance(value, EventReceived):
            self.tally.events += 1
            self.pending.append(frames.flat_json(value.event) if self.as_json
                                else line(value.event, self.colour).encode("utf-8"))
        elif isinstance(value, Gap):
            self.tally.gaps += 1
            after = escape_control(value.after or "the start")
            say(f"!! GAP: events after {after} were lost ({escape_control(value.reason)})")
        elif isinstance(value, Connecting):
            say(f"connecting to {value.url}")
        elif isinstance(value, Connected):
            say("connected" + (" (resumed)" if value.resumed else ""))
        elif isinstance(value, Reconnecting):
            say(f"reconnecting in {value.delay:.1f} s (attempt {value.attempt}): "
                f"{escape_control(value.reason)}")
        elif isinstance(value, Disconnected):
            with contextlib.suppress(BrokenPipeError):  # the events before it come first
                self.flush()
            say(f"disconnected: {escape_control(value.reason)}")
        elif isinstance(value, Problem):
            say(f"warning: {escape_control(value.message)}")
        else:
            self.other(value)

    def other(self, value: object) -> None:
        """A forwarder's delivery, or a note. Only `--forward-to` and `--demo` send these, so
        the forwarder module is imported here, not by every `listen`."""
        if self.sinks.show(value):
            return
        from ofevents_cli.shells.forwarder import Delivered

        if isinstance(value, Delivered):
            self.tally.undelivered += value.failed
            say(delivery_line(value))
        else:
            say(str(value))
