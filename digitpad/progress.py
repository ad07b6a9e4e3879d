"""Typed progress events for long work (synthesis, training, retraining).

Long work never prints or touches a UI: it calls a ``ProgressSink`` with events. The CLI renders
them as a bar or JSON lines; the app reads the JSON lines of a child process.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TextIO


@dataclass(frozen=True)
class ProgressEvent:
    """One step of long work. Fields that are not known are None."""

    phase: str
    step: int | None = None
    total: int | None = None
    epoch: int | None = None
    loss: float | None = None
    val_acc: float | None = None
    eta_s: float | None = None
    message: str | None = None
    extra: dict[str, Any] | None = None

    def to_json(self) -> str:
        data = {k: v for k, v in asdict(self).items() if v is not None and k != "extra"}
        if self.extra:
            data.update(self.extra)
        return json.dumps(data, sort_keys=False)


ProgressSink = Callable[[ProgressEvent], None]


def null_sink(event: ProgressEvent) -> None:
    """Discard progress."""


class JsonLinesSink:
    """Writes one JSON object per line and flushes, so a parent process sees it at once."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def __call__(self, event: ProgressEvent) -> None:
        self.stream.write(event.to_json() + "\n")
        self.stream.flush()


class BarSink:
    """A one-line text progress bar on stderr for people; silent when stderr is not a TTY
    unless ``force`` is set."""

    def __init__(self, stream: TextIO | None = None, width: int = 30, force: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.enabled = force or self.stream.isatty()
        self._last = 0.0
        self._started = time.monotonic()

    def __call__(self, event: ProgressEvent) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        done = event.total is not None and event.step is not None and event.step >= event.total
        if now - self._last < 0.1 and not done and event.message is None:
            return
        self._last = now
        parts = [f"{event.phase:<10}"]
        if event.total:
            frac = min(1.0, (event.step or 0) / event.total)
            filled = int(frac * self.width)
            bar = "#" * filled + "." * (self.width - filled)
            parts.append(f"[{bar}] {event.step}/{event.total}")
        if event.epoch is not None:
            parts.append(f"epoch {event.epoch}")
        if event.loss is not None:
            parts.append(f"loss {event.loss:.3f}")
        if event.val_acc is not None:
            parts.append(f"val {event.val_acc:.1%}")
        if event.eta_s is not None:
            parts.append(f"eta {event.eta_s:.0f}s")
        if event.message:
            parts.append(event.message)
        self.stream.write("\r" + "  ".join(parts)[:120].ljust(120))
        if done or event.message:
            self.stream.write("\n")
        self.stream.flush()
