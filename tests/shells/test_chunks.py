"""Pieces of a file cut at line ends, worked on in forked processes, results in file order."""

from __future__ import annotations

import io
import os
from pathlib import Path

from ofevents_cli.shells.chunks import in_workers, pieces


def test_pieces_end_at_line_ends_and_number_their_first_line() -> None:
    """Every piece but the last ends with a line end; together they are the file; each knows
    the number of its first line; a line longer than a piece stays whole."""
    data = b"".join(b"line %d %s\n" % (n, b"x" * (n % 13) * 9) for n in range(1, 400))
    data += b"y" * 500 + b"\nno line end at the end"
    got = list(pieces(io.BytesIO(data), size=64))
    assert b"".join(piece for piece, _ in got) == data
    assert all(piece.endswith(b"\n") for piece, _ in got[:-1])
    assert len(got) > 20 and any(len(piece) > 500 for piece, _ in got)
    for piece, first in got:
        assert first == data[:data.index(piece)].count(b"\n") + 1


def _who(tag: str, piece: bytes, first: int) -> tuple[str, int, int, int]:
    return tag, first, piece.count(b"\n"), os.getpid()


def test_in_workers_runs_each_piece_in_another_process_in_file_order(tmp_path: Path) -> None:
    """Results come in file order, each from a worker process, never the caller."""
    file = tmp_path / "lines.txt"
    file.write_bytes(b"".join(b"%d %s\n" % (n, b"z" * 2000) for n in range(5000)))
    results = list(in_workers(str(file), _who, "job", 2))
    assert [tag for tag, *_ in results] == ["job"] * len(results) and len(results) > 5
    firsts = [first for _, first, _, _ in results]
    assert firsts == sorted(firsts) and firsts[0] == 1
    assert sum(lines for _, _, lines, _ in results) == 5000
    pids = {pid for *_, pid in results}
    assert pids and os.getpid() not in pids
