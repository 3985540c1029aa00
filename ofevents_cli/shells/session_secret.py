"""The `listen --forward-to` signing secret: made once, kept in the config dir, reused."""

from __future__ import annotations

import base64
import os

from ofevents_cli.errors import InputError
from ofevents_cli.shells.config import config_dir
from ofevents_cli.shells.private_file import write_private

FILE_NAME = "listen-secret"


def session_secret() -> str:
    """The saved `whsec_…` secret, created (mode 0600) on first use."""
    path = config_dir() / FILE_NAME
    try:
        saved = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        saved = ""
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}", "fix its permissions or delete it") from None
    if saved.startswith("whsec_"):
        return saved
    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode("ascii")
    try:
        write_private(path, secret + "\n")
    except OSError as exc:
        raise InputError(f"cannot save the listen secret in {path}: {exc}",
                         "set OFEVENTS_CONFIG_DIR to a writable dir, or pass --secret") from None
    return secret
