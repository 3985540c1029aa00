"""`ofevents inspect`: a terminal inspector over the history (textual).

A live list (newest at the bottom, following new lines like `tail -f`), a detail pane
(headers, pretty body, the signature checked now, `e` for the explanation), `/` to search
headers and bodies, `r` to replay the selected delivery to `--to`, `R` to re-sign and replay,
`c` to copy its curl command. It holds at most `limit` records. Only this module imports
textual, and only `ofevents inspect` imports this module.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import DataTable, Footer, Input, Static

from ofevents_cli.core.capture import Capture
from ofevents_cli.core.curl import curl_command
from ofevents_cli.core.history_query import Entry, Query
from ofevents_cli.errors import OfeventsError
from ofevents_cli.render.history import detail_text, local_time, signature_text
from ofevents_cli.render.replays import replayed_line
from ofevents_cli.render.text import escape_control, shorten
from ofevents_cli.shells.history_check import check_entry
from ofevents_cli.shells.history_read import BadLine, Follower, Item, Source, newest_first
from ofevents_cli.shells.relay import HOP_BY_HOP, join_url
from ofevents_cli.shells.replay import Replayed, ReplaySettings, replay

__all__ = ["InspectSettings", "Inspector"]

CURL_TARGET = "http://localhost:3000"  # the curl command's target when there is no --to


@dataclass(frozen=True)
class InspectSettings:
    """What to show and follow, where to replay, and with which secrets."""

    files: list[Source]
    directory: Path | None = None  # the history home: new session files are followed too
    target: str | None = None
    secrets: tuple[str, ...] = ()
    limit: int = 1000
    poll: float = 0.5
    timeout: float = 10.0
    copy: Callable[[str], None] | None = field(default=None, compare=False)


class Inspector(App[None]):
    """The inspector's screen: list above, detail below, a status line and the keys."""

    TITLE = "ofevents inspect"
    CSS = """
    #list { height: 45%; }
    #detail-pane { height: 1fr; border-top: solid $accent; }
    #search { display: none; }
    #search.open { display: block; }
    #status { height: 1; background: $boost; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "search"),
        Binding("escape", "clear_search", "clear search", show=False),
        Binding("r", "replay", "replay"),
        Binding("R", "resign", "re-sign + replay"),
        Binding("c", "curl", "copy curl"),
        Binding("e", "explain", "explain"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, settings: InspectSettings) -> None:
        super().__init__()
        self.settings = settings
        self.held: deque[Entry] = deque(maxlen=settings.limit)
        self.by_key: dict[str, Entry] = {}
        self.needle = ""
        self.explain = False
        self.bad = 0
        self.follower = Follower(settings.files, settings.directory)
        self.serial = 0

    def compose(self) -> ComposeResult:
        """The widgets, top to bottom."""
        yield DataTable(id="list", cursor_type="row", zebra_stripes=True)
        yield Input(placeholder="search headers and bodies (Enter; Esc clears)", id="search")
        with VerticalScroll(id="detail-pane"):
            yield Static(id="detail", markup=False)
        yield Static(id="status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        """Load the newest records, then follow the files."""
        table = self.query_one("#list", DataTable)
        table.add_columns("time", "id", "provider", "event", "signature", "status")
        newest: list[Entry] = []
        for item in newest_first(self.settings.files):
            if isinstance(item, BadLine):
                self.bad += 1
            else:
                newest.append(item)
                if len(newest) >= self.settings.limit:
                    break
        self._add(reversed(newest))
        self.set_interval(self.settings.poll, self.follow)
        where = self.settings.directory or ", ".join(s.name for s in self.settings.files)
        self.status(f"{len(self.held)} records from {where}; following new ones")
        table.focus()

    # the list

    def follow(self) -> None:
        """Add what was appended since the last look."""
        items = self.follower.poll()
        if items:
            with contextlib.suppress(NoMatches):  # the app is closing: its widgets are gone
                self._add(items)

    def _add(self, items: Iterable[Item]) -> None:
        table = self.query_one("#list", DataTable)
        at_end = table.row_count == 0 or table.cursor_row >= table.row_count - 1
        added = False
        for item in items:
            if isinstance(item, BadLine):
                self.bad += 1
                continue
            if len(self.held) == self.held.maxlen:
                self._drop(self.held[0])
            self.held.append(item)
            if self._shown(item):
                self._row(table, item)
                added = True
        if added and at_end:
            table.move_cursor(row=table.row_count - 1)

    def _drop(self, oldest: Entry) -> None:
        for key, entry in list(self.by_key.items()):
            if entry is oldest:
                del self.by_key[key]
                self.query_one("#list", DataTable).remove_row(key)
                return

    def _shown(self, entry: Entry) -> bool:
        needle = self.needle.lower()
        return not needle or needle in entry.id.lower() or Query(grep=needle).matches(entry)

    def _row(self, table: DataTable[object], entry: Entry) -> None:
        self.serial += 1
        key = str(self.serial)
        self.by_key[key] = entry
        status = entry.status if entry.status is not None else (
            "event" if entry.kind == "event" else "-")
        cells = (local_time(entry.epoch)[11:], entry.id, entry.provider or "-",
                 shorten(entry.event or "-", 40), signature_text(entry), str(status))
        # Text, never a str: a cell from a file must not be read as markup
        table.add_row(*(Text(escape_control(cell)) for cell in cells), key=key)

    def _rebuild(self) -> None:
        table = self.query_one("#list", DataTable)
        table.clear()
        self.by_key.clear()
        for entry in self.held:
            if self._shown(entry):
                self._row(table, entry)
        if table.row_count:
            table.move_cursor(row=table.row_count - 1)
        self.status(f"{table.row_count} of {len(self.held)} records"
                    + (f" match {self.needle!r}" if self.needle else ""))

    @property
    def selected(self) -> Entry | None:
        """The record under the cursor."""
        table = self.query_one("#list", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.by_key.get(key or "")

    def on_data_table_row_highlighted(self, message: DataTable.RowHighlighted) -> None:
        """Show the highlighted record in the detail pane."""
        entry = self.by_key.get(message.row_key.value or "")
        if entry is not None:
            self.show_detail(entry)

    def show_detail(self, entry: Entry) -> None:
        """The record in full, its signature checked now."""
        checked = check_entry(entry, self.settings.secrets, self.explain)
        self.query_one("#detail", Static).update(detail_text(entry, checked, self.explain))

    def status(self, text: str) -> None:
        """The one-line status under the detail pane."""
        bad = f"  ({self.bad} bad lines skipped)" if self.bad else ""
        self.query_one("#status", Static).update(escape_control(text) + bad)

    # the keys

    def action_search(self) -> None:
        """Open the search box."""
        box = self.query_one("#search", Input)
        box.add_class("open")
        box.focus()

    def on_input_submitted(self, message: Input.Submitted) -> None:
        """Filter the list by the text typed."""
        self.needle = message.value.strip()
        self.query_one("#search", Input).remove_class("open")
        self._rebuild()
        self.query_one("#list", DataTable).focus()

    def action_clear_search(self) -> None:
        """Show every record again."""
        box = self.query_one("#search", Input)
        box.value = ""
        box.remove_class("open")
        self.needle = ""
        self._rebuild()
        self.query_one("#list", DataTable).focus()

    def action_explain(self) -> None:
        """Toggle the signature explanation in the detail pane."""
        self.explain = not self.explain
        if self.selected is not None:
            self.show_detail(self.selected)

    def _delivery(self) -> Capture | None:
        entry = self.selected
        if entry is None or not isinstance(entry.record, Capture):
            self.status("select a webhook delivery (an EventBus event has no request to send)")
            return None
        return entry.record

    def action_curl(self) -> None:
        """Copy the selected delivery's curl command (and show it)."""
        record = self._delivery()
        if record is None:
            return
        url = join_url(self.settings.target or CURL_TARGET, "", record.path)
        headers = [(k, v) for k, v in record.headers if k.lower() not in HOP_BY_HOP]
        command = curl_command(record.method, url, headers, record.body)
        (self.settings.copy or self.copy_to_clipboard)(command)
        self.query_one("#detail", Static).update("copied to the clipboard:\n\n" + command)
        self.status("curl command copied" + ("" if self.settings.target else
                                             f" (to {CURL_TARGET}: pass --to for yours)"))

    def action_replay(self) -> None:
        """Send the selected delivery to --to, as captured."""
        self._send(resign=False)

    def action_resign(self) -> None:
        """Send the selected delivery to --to with a fresh signature."""
        self._send(resign=True)

    def _send(self, resign: bool) -> None:
        record = self._delivery()
        if record is None:
            return
        if not self.settings.target:
            self.status("no target: start `ofevents inspect --to URL` to replay")
            return
        self.status(f"sending {record.id}…")
        self.run_worker(self._replay(record, resign), exclusive=True, group="replay")

    async def _replay(self, record: Capture, resign: bool) -> None:
        assert self.settings.target is not None
        settings = ReplaySettings(self.settings.target, resign, self.settings.secrets,
                                  self.settings.timeout)
        try:
            async for outcome in replay(iter([record]), settings):
                self.status(("re-signed " if resign else "") + replayed_line(outcome)
                            if isinstance(outcome, Replayed) else
                            f"not sent: {outcome.message}")
        except OfeventsError as exc:
            self.status(f"not sent: {exc.message}")
