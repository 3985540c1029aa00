"""The core stays pure: no I/O libraries, no clock or environment reads, no upward imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "ofevents_cli" / "core"
FORBIDDEN_MODULES = {"asyncio", "socket", "httpx", "aiohttp", "websockets", "pyngrok", "rich",
                     "typer", "uvicorn", "time", "os", "subprocess", "threading"}
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "getenv", "urandom"}


@pytest.mark.parametrize("module", sorted(CORE.glob("*.py")), ids=lambda p: p.name)
def test_core_module_is_pure(module: Path) -> None:
    """A core module imports no I/O library, no shell/render/cli code, and reads no clock."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN_MODULES, f"{module.name} imports {name}"
            assert not name.startswith(("ofevents_cli.shells", "ofevents_cli.render",
                                        "ofevents_cli.cli")), f"{module.name} imports {name}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in FORBIDDEN_CALLS:
                raise AssertionError(f"{module.name} calls .{node.func.attr} (pass it in)")
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id == "random" and node.func.attr != "Random":
                raise AssertionError(f"{module.name} uses the global random state (take a Random)")
