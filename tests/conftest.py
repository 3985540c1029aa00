"""Every test runs with its own config dir and history dir, and no provider secrets from the
real environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

_ENV = (
    "OFAPI_WEBHOOK_SECRET", "ONLYFANSAPI_WEBHOOK_SECRET", "OFAUTH_WEBHOOK_SECRET",
    "BFL_API_KEY", "BFL_WS_TOKEN", "OFEVENTS_EVENTBUS_URL", "NGROK_AUTHTOKEN",
    "PYNGROK_NGROK_PATH", "FORCE_COLOR",
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                 ) -> Iterator[Path]:
    """Point the config and history dirs at temp dirs so no test reads or writes the real ones."""
    config = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("OFEVENTS_CONFIG_DIR", str(config))
    monkeypatch.setenv("OFEVENTS_HISTORY_DIR", str(tmp_path_factory.mktemp("history")))
    monkeypatch.setenv("NO_COLOR", "1")
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    yield config
