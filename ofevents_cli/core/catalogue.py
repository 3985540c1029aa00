"""The event catalogue: every event type of every provider, each backed by one fixture file.

Fixtures live in `<provider's fixture dir>/<event>.json` (the package's
`ofevents_cli/fixtures/<provider>/` for the built-in providers) as
`{"description": "...", "source": "...", "assumed": "...", "envelope": "...", "data": {...},
"envelopes": {"<variant>": {...data...}}}`. `source` names the provider document the shape comes
from (seed file and section, or public page); `assumed` (optional) says what that document leaves
unsaid and why the sample fills it as it does; `envelope` (optional) is the variant to send by
default when the only document of the event uses another than the provider's default;
`envelopes` (optional) holds the data shape a non-default envelope variant documents.

User fixture folders (`use_fixture_dirs`: `<dir>/<provider>/<event>.json`, same format,
`source` optional) add event types or replace built-in ones; a file that cannot be used is an
InputError naming it. The files are read here, through `Traversable`, and never written.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ofevents_cli.core import providers as registry
from ofevents_cli.core.strictjson import finite_float, problem, reject_constant
from ofevents_cli.errors import InputError

if TYPE_CHECKING:  # only annotations name it
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:  # 3.10 (mypy --python-version 3.10 in .ci/run)
        from importlib.abc import Traversable

__all__ = ["EventType", "all_events", "events", "find", "provider_of", "use_fixture_dirs"]


@dataclass(frozen=True)
class EventType:
    """One event type: its name, provider, what it means, its sample data and where that
    sample's shape comes from."""

    name: str
    provider: str
    description: str
    data: Mapping[str, Any]
    envelopes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: str = ""
    assumed: str = ""
    envelope: str = ""  # the default envelope variant, when not the provider's first

    def data_for(self, envelope: str) -> Mapping[str, Any]:
        """The sample data in the shape `envelope` documents (the default shape otherwise)."""
        return self.envelopes.get(envelope, self.data)


_user_dirs: tuple[Traversable, ...] = ()
_cached: tuple[tuple[int, tuple[Traversable, ...]], tuple[EventType, ...]] | None = None


def use_fixture_dirs(dirs: Sequence[Traversable]) -> None:
    """Read user fixture folders too (later ones win over earlier ones and the built-ins)."""
    global _user_dirs
    _user_dirs = tuple(dirs)


def all_events() -> tuple[EventType, ...]:
    """Every event type, ordered by provider then name; built once per registry and set of
    user folders. InputError lists every user fixture file that cannot be used."""
    global _cached
    key = (registry.generation(), _user_dirs)
    if _cached is not None and _cached[0] == key:
        return _cached[1]
    found: dict[tuple[str, str], EventType] = {}
    for owner in registry.providers():
        if owner.fixture_dir.is_dir():
            for item in _json_files(owner.fixture_dir):
                event = _event(owner.name, item, required_source=True)
                if isinstance(event, str):  # a built-in fixture is tested: this is a bug
                    raise ValueError(event)
                found[owner.name, event.name] = event
    problems: list[str] = []
    for folder in _user_dirs:
        _read_user_dir(folder, found, problems)
    if problems:
        noun = "file cannot" if len(problems) == 1 else "files cannot"
        raise InputError(f"{len(problems)} user fixture {noun} be used:\n  "
                         + "\n  ".join(problems),
                         "fix or remove them (the format is in docs/events.md, \"Your own "
                         "event types\")")
    order = {name: n for n, name in enumerate(registry.names())}
    ordered = tuple(sorted(found.values(), key=lambda e: (order[e.provider], e.name)))
    _cached = (key, ordered)
    return ordered


def _json_files(folder: Traversable) -> list[Traversable]:
    return sorted((item for item in folder.iterdir() if item.name.endswith(".json")),
                  key=lambda item: item.name)


def _read_user_dir(folder: Traversable, found: dict[tuple[str, str], EventType],
                   problems: list[str]) -> None:
    if not folder.is_dir():
        problems.append(f"{folder}: not a folder")
        return
    known = registry.names()
    for sub in sorted(folder.iterdir(), key=lambda item: item.name):
        if not sub.is_dir():
            continue
        if sub.name not in known:
            problems.append(f"{sub}: no provider is named {sub.name!r} (folders are named "
                            f"after one of {', '.join(known)})")
            continue
        for item in _json_files(sub):
            event = _event(sub.name, item, required_source=False)
            if isinstance(event, str):
                problems.append(event)
            else:
                found[sub.name, event.name] = event


_DECODER = json.JSONDecoder(parse_constant=reject_constant, parse_float=finite_float)


def _event(provider: str, item: Traversable, *, required_source: bool) -> EventType | str:
    """The event type in fixture file `item`, or what is wrong with it."""
    where = str(item)
    try:
        raw = _DECODER.decode(item.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        return f"{where}: not UTF-8 text"
    except (ValueError, RecursionError) as exc:
        return f"{where}: not JSON ({str(exc)[:80]})"
    except OSError as exc:
        return f"{where}: cannot be read ({exc.strerror or exc})"
    if not isinstance(raw, dict):
        return f"{where}: not a JSON object"
    bad = problem(raw)
    if bad is not None:
        return f"{where}: {bad}"
    owner = registry.provider(provider)
    variants = [e.name for e in owner.envelopes]
    shapes = raw.get("envelopes", {})
    checks = (
        (isinstance(raw.get("description"), str), "`description` must be a string"),
        (isinstance(raw.get("data"), dict), "`data` must be an object"),
        (isinstance(raw.get("source", ""), str) and (raw.get("source") or not required_source),
         "`source` must be a string naming the document the shape comes from"),
        (isinstance(raw.get("assumed", ""), str), "`assumed` must be a string"),
        (raw.get("envelope", variants[0]) in variants,
         f"`envelope` must be one of {', '.join(variants)}"),
        (isinstance(shapes, dict)
         and all(k in variants and isinstance(v, dict) for k, v in shapes.items()),
         f"`envelopes` must map {' or '.join(variants)} to objects"),
    )
    for ok, why in checks:
        if not ok:
            return f"{where}: {why}"
    return EventType(name=item.name.removesuffix(".json"), provider=provider,
                     description=raw["description"], data=raw["data"],
                     envelopes=raw.get("envelopes", {}),
                     source=raw.get("source") or f"your fixture {where}",
                     assumed=raw.get("assumed", ""), envelope=raw.get("envelope", ""))


def provider_of(name: str) -> str | None:
    """The provider an event name belongs to, when exactly one provider has it."""
    owners = {e.provider for e in all_events() if e.name == name}
    return owners.pop() if len(owners) == 1 else None


def events(provider: str | None = None) -> list[EventType]:
    """Every event type, or one provider's; InputError for an unknown provider."""
    if provider is not None:
        registry.provider(provider)
    return [e for e in all_events() if provider in (None, e.provider)]


def find(name: str, provider: str | None = None) -> EventType:
    """Look an event type up; InputError with the close matches and a hint if unknown."""
    matches = [e for e in events(provider) if e.name == name]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        owners = ", ".join(e.provider for e in matches)
        raise InputError(f"event {name!r} exists for several providers ({owners})",
                         "choose one with --provider")
    import difflib

    names = sorted({e.name for e in events(provider)})
    close = difflib.get_close_matches(name, names, n=3)
    where = f" for provider {provider}" if provider else ""
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise InputError(f"unknown event {name!r}{where}", hint + "list them with `ofevents events`")
