"""I/O shells: clients, servers, the tunnel, files. They yield typed values and never print.

httpx's `__init__` imports its own command-line client (`httpx._main`: click, rich, pygments;
~60 ms and ~100 modules per start, by `python -X importtime -c "import httpx"`) whenever
those are installed, as they are here (rich is ours, click comes with uvicorn). ofevents
never runs httpx's CLI, so that import is refused before any shell imports httpx: httpx then
falls back to its own stub `main`. A process that already imported httpx keeps it as it is.
"""

import sys

if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
