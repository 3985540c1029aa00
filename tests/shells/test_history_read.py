"""Reading history files: lines across block boundaries, odd endings, following a growing
file, and the curl command a delivery gives."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ofevents_cli.core.capture import Capture, format_timestamp
from ofevents_cli.core.curl import curl_command
from ofevents_cli.shells.history_read import (
    BLOCK,
    BadLine,
    Follower,
    find,
    newest_first,
    oldest_first,
    sources,
)
from tests.history_data import delivery, now, write
from tests.target import running_target


def _ids(items: object) -> list[str]:
    return [i.id for i in items if not isinstance(i, BadLine)]  # type: ignore[attr-defined]


def test_records_longer_than_a_block_read_whole_both_ways(tmp_path: Path) -> None:
    """Bodies of 0.5 to 3 blocks come back byte for byte, newest first and oldest first."""
    start = now() - 60
    sizes = [BLOCK // 2, 3 * BLOCK, 10, BLOCK, BLOCK + 1]
    records = [delivery(n, start + n, body=b'{"pad":"' + b"x" * size + b'"}')
               for n, size in enumerate(sizes)]
    path = write(tmp_path / "c.jsonl", *(r.to_json() for r in records))
    files = sources([path], given=True)
    newest = [i for i in newest_first(files) if not isinstance(i, BadLine)]
    assert [e.record.body for e in newest] == [r.body for r in reversed(records)]
    assert [e.record.line for e in newest] == [5, 4, 3, 2, 1]
    assert _ids(oldest_first(files)) == [r.id for r in records]


def test_no_final_newline_a_bom_and_blank_lines(tmp_path: Path) -> None:
    """A BOM on line 1, blank lines and a last line without newline are all read."""
    start = now() - 60
    path = tmp_path / "c.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + delivery(1, start).to_json().encode() + b"\n\n\n"
                     + delivery(2, start + 1).to_json().encode())
    files = sources([path], given=True)
    items = list(newest_first(files))
    assert _ids(items) == ["dlv_0002", "dlv_0001"] and len(items) == 2
    assert [i.record.line for i in items] == [4, 1]  # type: ignore[union-attr]


def test_find_stops_at_the_ids_and_names_bad_lines(tmp_path: Path) -> None:
    """find() returns the newest record of each id, and the bad lines it passed."""
    start = now() - 60
    path = write(tmp_path / "c.jsonl", delivery(1, start).to_json(), "nope",
                 delivery(2, start + 1).to_json())
    found, bad = find(sources([path], given=True), ["dlv_0001"])
    assert list(found) == ["dlv_0001"] and [b.line for b in bad] == [2]


def test_follower_returns_appended_lines_once_they_are_whole(tmp_path: Path) -> None:
    """Half a line waits; the whole line comes with the right number; a new file is picked up."""
    start = now() - 60
    path = write(tmp_path / "c.jsonl", delivery(1, start).to_json())
    follower = Follower(sources([path], given=True), directory=tmp_path)
    assert follower.poll() == []
    line = delivery(2, start + 1).to_json().encode()
    with path.open("ab") as handle:
        handle.write(line[:50])
        handle.flush()
        assert follower.poll() == []
        handle.write(line[50:] + b"\nbroken\n")
    items = follower.poll()
    assert _ids(items) == ["dlv_0002"] and items[0].record.line == 2  # type: ignore[union-attr]
    assert isinstance(items[1], BadLine) and items[1].line == 3
    write(tmp_path / "new.jsonl", delivery(3, start + 2).to_json())
    assert _ids(follower.poll()) == ["dlv_0003"]


def test_curl_command_resends_the_exact_bytes() -> None:
    """The curl command, run by a shell, delivers the same headers and body (binary too)."""
    bodies = [b'{"m":"it\'s $HOME `x` \\n \xc3\xa9"}', bytes(range(256))]
    with running_target() as target:
        for body in bodies:
            record = Capture("dlv_1", format_timestamp(now()), "POST", "/w?a=1&b=2",
                             (("X-Sig", "v1=a b'c"), ("Content-Type", "application/json")), body)
            command = curl_command(record.method, f"{target.url}{record.path}",
                                   record.headers, record.body)
            subprocess.run(["bash", "-c", command + " -o /dev/null"], check=True, timeout=30)
    assert [r.body for r in target.requests] == bodies
    assert all(r.path == "/w?a=1&b=2" and r.values("x-sig") == ["v1=a b'c"]
               for r in target.requests)
