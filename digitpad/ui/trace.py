"""Optional machine-readable trace of what the app did, for tests and benchmarks.

Set ``DIGITPAD_UI_TRACE=/path/file`` and the app appends one JSON object per line
(``{"event": "mapped", "t": <epoch seconds>, ...}``) at the moments that matter: the window is
mapped, boxes are on screen, a save committed. Off (a no-op) by default.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

ENV = "DIGITPAD_UI_TRACE"


def trace(event: str, **fields: Any) -> None:
    """Append one event to the trace file, if tracing is on. Never raises."""
    path = os.environ.get(ENV)
    if not path:
        return
    record = {"event": event, "t": time.time(), **fields}
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, default=str) + "\n")
    except OSError:
        pass  # tracing must never break the app
