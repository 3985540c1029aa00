"""Your own event types: fixture folders that extend or override the catalogue.

`<config dir>/fixtures/` is read whenever it exists, then `--fixtures DIR` on top. Each holds
`<provider>/<event>.json` files in the catalogue's fixture format (docs/events.md).
"""

from __future__ import annotations

from pathlib import Path

from ofevents_cli.core.catalogue import use_fixture_dirs
from ofevents_cli.errors import InputError
from ofevents_cli.shells.config import config_dir

FOLDER = "fixtures"


def user_fixture_dir() -> Path:
    """The fixture folder in the config dir (it need not exist)."""
    return config_dir() / FOLDER


def load_user_fixtures(extra: str | None = None) -> None:
    """Point the catalogue at the user's fixture folders; InputError for a `--fixtures` that
    is not a folder (bad files are reported when the catalogue reads them)."""
    dirs = [user_fixture_dir()] if user_fixture_dir().is_dir() else []
    if extra is not None:
        chosen = Path(extra)
        if not chosen.is_dir():
            raise InputError(f"--fixtures {extra}: not a folder",
                             "give a folder of <provider>/<event>.json files (docs/events.md)")
        dirs.append(chosen)
    use_fixture_dirs(dirs)
