"""Work that must not block the window: worker threads and the retrain child process.

Workers never touch Tk. They put ``(kind, payload)`` events on one :class:`queue.Queue`, and the
window drains a few per pass with ``after()``. Kinds are ``"<job>.done"`` / ``"<job>.failed"`` for
thread jobs, ``"retrain.progress"`` and ``"retrain.exit"`` for the retrain process.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digitpad.errors import DigitpadError

Event = tuple[str, Any]

# How much lower than the app the retrain child runs (nice +10): on a 2-core machine training
# would otherwise compete with the window's redraws on equal terms.
RETRAIN_NICENESS = 10
NOTHING_TO_LEARN = "Nothing to learn from yet: save a reviewed page first"


class Jobs:
    """Runs functions on daemon threads, at most one per job name, reporting through ``events``."""

    def __init__(self) -> None:
        self.events: queue.Queue[Event] = queue.Queue()
        self._busy: set[str] = set()
        self._lock = threading.Lock()

    def busy(self, name: str) -> bool:
        """Whether a job named ``name`` is running."""
        with self._lock:
            return name in self._busy

    @property
    def any_busy(self) -> bool:
        """Whether any job is running."""
        with self._lock:
            return bool(self._busy)

    def start(self, name: str, fn: Callable[..., Any], *args: Any, tag: Any = None) -> bool:
        """Run ``fn(*args)`` on a thread. Returns False (and does nothing) if ``name`` is running.

        On return the thread puts ``(name + ".done", (tag, result))``; on an exception it puts
        ``(name + ".failed", (tag, exc))``. A non-user error also prints its traceback on stderr.
        """
        with self._lock:
            if name in self._busy:
                return False
            self._busy.add(name)
        thread = threading.Thread(
            target=self._run, args=(name, fn, args, tag), name=f"digitpad-{name}", daemon=True
        )
        thread.start()
        return True

    def _run(self, name: str, fn: Callable[..., Any], args: tuple[Any, ...], tag: Any) -> None:
        try:
            result = fn(*args)
        except BaseException as exc:  # reported, never lost: the window shows it as one line
            if not isinstance(exc, DigitpadError):
                traceback.print_exc()
            event: Event = (f"{name}.failed", (tag, exc))
        else:
            event = (f"{name}.done", (tag, result))
        with self._lock:
            self._busy.discard(name)  # before the event, so its handler may start the next run
        self.events.put(event)

    def drain(self, limit: int = 8) -> list[Event]:
        """Up to ``limit`` waiting events, oldest first, without blocking."""
        out: list[Event] = []
        while len(out) < limit:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                break
        return out


def retrain_argv(home_root: Path) -> list[str]:
    """Exactly the command the app runs to retrain in a separate process."""
    return [
        sys.executable,
        "-m",
        "digitpad",
        "retrain",
        "--home",
        str(home_root),
        "--progress",
        "json",
    ]


@dataclass(frozen=True)
class RetrainOutcome:
    """How a retrain process ended: its exit code, its last JSON line, and stderr's tail."""

    returncode: int
    final: dict[str, Any] | None
    cancelled: bool
    stderr_tail: str

    @property
    def ok(self) -> bool:
        """Whether the retrain reported "done". Its last line is the verdict: a cancel (or any
        signal) that reached the process after it found the work finished, the model maybe
        switched, and the process only exiting (a SIGTERM then ends it with -15)."""
        return self.final is not None and self.final.get("phase") == "done"

    @property
    def stopped(self) -> bool:
        """Whether the person's cancel stopped the retrain before it finished."""
        return self.cancelled and not self.ok

    @property
    def nothing_to_learn(self) -> bool:
        """Whether the retrain stopped cleanly because there are no saved corrections yet.

        The CLI reports this as phase "failed", reason "no_corrections" with exit code 0: not an
        error, just nothing to do.
        """
        final = self.final or {}
        return (
            self.returncode == 0
            and not self.stopped
            and final.get("phase") == "failed"
            and final.get("reason") == "no_corrections"
        )

    @property
    def verdict(self) -> str:
        """How the app shows this outcome: "promoted" (swap the model in), "info" (a status-bar
        line: finished without promotion, cancelled, nothing to learn yet) or "error" (a dialog).
        """
        if self.promoted:
            return "promoted"
        if self.ok or self.stopped or self.nothing_to_learn:
            return "info"
        return "error"

    @property
    def promoted(self) -> bool:
        """Whether the retrain promoted its new model."""
        return self.ok and bool(self.final and self.final.get("promoted"))

    @property
    def version(self) -> str | None:
        """The new model's version ("v4"), or None when none was made."""
        v = (self.final or {}).get("version")
        if v is None:
            return None
        return v if isinstance(v, str) else f"v{v}"

    @property
    def message(self) -> str:
        """One line for the status bar or a dialog."""
        final = self.final or {}
        text = final.get("message") or final.get("reason")
        if self.stopped:
            return "Retrain cancelled: the active model is unchanged"
        if self.nothing_to_learn:
            return NOTHING_TO_LEARN
        if text:
            return " ".join(str(text).split())
        if self.ok:
            return f"Retrain finished: {self.version or 'new model'}"
        last = [ln for ln in self.stderr_tail.splitlines() if ln.strip()]
        why = last[-1].removeprefix("digitpad: error: ") if last else f"exit code {self.returncode}"
        return f"Retrain failed: {' '.join(why.split())}"


class RetrainJob:
    """The retrain child process: reads its JSON progress lines, can be cancelled with SIGTERM."""

    def __init__(self, events: queue.Queue[Event], argv: list[str]) -> None:
        self.events = events
        self.argv = argv
        self._proc: subprocess.Popen[str] | None = None
        self._cancelled = False
        self._stderr: deque[str] = deque(maxlen=30)
        self._stderr_thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the retrain process is still alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the process and the threads reading it.

        Raises:
            DigitpadError: the process could not be started.
        """
        try:
            self._proc = subprocess.Popen(
                self.argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
                bufsize=1,
            )
        except OSError as exc:
            raise DigitpadError(f"cannot start retraining: {exc.strerror or exc}") from exc
        lower_priority(self._proc.pid)
        self._stderr_thread = threading.Thread(target=self._read_stderr, daemon=True)
        self._stderr_thread.start()
        threading.Thread(target=self._read_stdout, daemon=True).start()

    def cancel(self) -> None:
        """Ask the process to stop (SIGTERM); it cleans up and leaves the active model alone."""
        self._cancelled = True
        if self.running and self._proc is not None:
            self._proc.send_signal(signal.SIGTERM)

    def _read_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        for line in self._proc.stderr:
            self._stderr.append(line.rstrip("\n"))

    def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        final: dict[str, Any] | None = None
        for line in self._proc.stdout:
            event = parse_progress_line(line)
            if event is None:
                continue
            if event.get("phase") in ("done", "failed"):
                final = event
            self.events.put(("retrain.progress", event))
        returncode = self._proc.wait()
        if self._stderr_thread is not None:
            self._stderr_thread.join(timeout=5)
        outcome = RetrainOutcome(returncode, final, self._cancelled, "\n".join(self._stderr))
        self.events.put(("retrain.exit", outcome))


def lower_priority(pid: int, increment: int = RETRAIN_NICENESS) -> None:
    """Raise process ``pid``'s nice value by ``increment`` (capped at 19), best effort.

    Done from the parent right after the child starts rather than with ``preexec_fn=os.nice``:
    preexec_fn is unsafe in a process with threads (the app runs worker threads), while
    ``setpriority`` on the fresh child is one syscall. The child is still starting Python when
    this runs, so the threads torch creates later inherit the lower priority. Platforms without
    ``os.setpriority`` (Windows) keep the normal priority.
    """
    if not hasattr(os, "setpriority"):
        return
    with contextlib.suppress(OSError):  # the child may already have exited
        current = os.getpriority(os.PRIO_PROCESS, pid)
        os.setpriority(os.PRIO_PROCESS, pid, min(19, current + increment))


def parse_progress_line(line: str) -> dict[str, Any] | None:
    """One JSON progress object, or None for a blank or non-JSON line (e.g. a stray warning)."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) and "phase" in event else None


def describe_progress(event: dict[str, Any]) -> tuple[float | None, str]:
    """The bar fraction (None = unknown) and one line of text for a progress event."""
    phase = str(event.get("phase", "working"))
    parts = [phase]
    step, total = event.get("step"), event.get("total")
    fraction = None
    if isinstance(step, (int, float)) and isinstance(total, (int, float)) and total > 0:
        fraction = max(0.0, min(1.0, step / total))
    if event.get("epoch") is not None:
        epochs = event.get("epochs")
        parts.append(f"epoch {event['epoch']}" + (f"/{epochs}" if epochs else ""))
    if isinstance(event.get("loss"), (int, float)):
        parts.append(f"loss {event['loss']:.3f}")
    if isinstance(event.get("val_acc"), (int, float)):
        parts.append(f"val {event['val_acc']:.1%}")
    if event.get("message") and len(parts) == 1:
        parts.append(str(event["message"]))
    eta = event.get("eta_s")
    if isinstance(eta, (int, float)) and eta >= 0:
        parts.append(f"ETA {int(eta) // 60}:{int(eta) % 60:02d}")
    return fraction, " · ".join(parts)
