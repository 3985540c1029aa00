"""The root command's subcommands, each built on first use.

Typer turns every command function into a Click command (signatures, type hints, one
parameter object per flag) before it parses a single argument: with thirteen commands that
was most of `ofevents --version`. A `LazyCommands` mapping holds every name from the start, so
listing, suggestions and completion see them all, and builds a command (importing its module)
only when it is looked up: `ofevents verify --help` builds `verify` alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping

from typer._click import Command  # typer vendors Click


class LazyCommands(MutableMapping[str, Command]):
    """Name -> command, built by `builders[name]()` the first time it is asked for."""

    def __init__(self, builders: dict[str, Callable[[], Command]]) -> None:
        self._builders = dict(builders)
        self._built: dict[str, Command] = {}

    def __getitem__(self, name: str) -> Command:
        built = self._built.get(name)
        if built is None:
            if name not in self._builders:
                raise KeyError(name)
            built = self._built[name] = self._builders[name]()
        return built

    def __setitem__(self, name: str, command: Command) -> None:
        self._built[name] = command
        self._builders.setdefault(name, lambda: command)

    def __delitem__(self, name: str) -> None:
        del self._builders[name]
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._builders)

    def __len__(self) -> int:
        return len(self._builders)

    def __contains__(self, name: object) -> bool:
        return name in self._builders
