"""A private X server (Xvfb) and an app process driven with xdotool, for real-window tests.

Nothing here fakes the window: the app runs as ``python -m digitpad app`` on its own display,
receives real X mouse and key events from xdotool, and reports what it did through its trace
file (``DIGITPAD_UI_TRACE``). Screenshots are taken from the X server with PIL.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "gui"
SCREEN = (1280, 800)


def missing_tools() -> list[str]:
    """The X tools these tests need that are not installed."""
    return [t for t in ("Xvfb", "xdotool") if shutil.which(t) is None]


class XServer:
    """Xvfb on a free display number (the server picks it and tells us through -displayfd)."""

    def __init__(self) -> None:
        read_fd, write_fd = os.pipe()
        self.proc = subprocess.Popen(
            [
                "Xvfb",
                "-displayfd",
                str(write_fd),
                "-screen",
                "0",
                f"{SCREEN[0]}x{SCREEN[1]}x24",
                "-nolisten",
                "tcp",
            ],
            pass_fds=(write_fd,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write_fd)
        with os.fdopen(read_fd) as fh:
            number = fh.readline().strip()
        if not number:
            self.proc.kill()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"

    def env(self, **extra: str) -> dict[str, str]:
        env = {**os.environ, "DISPLAY": self.display, **extra}
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def xdotool(self, *args: object) -> str:
        out = subprocess.run(
            ["xdotool", *map(str, args)],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
        return out.stdout

    def screenshot(self, name: str) -> Path:
        """Save the whole screen as test-artifacts/gui/<name>.png."""
        from PIL import ImageGrab

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        ImageGrab.grab(xdisplay=self.display).save(path)
        return path

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class AppProcess:
    """``python -m digitpad app --home HOME`` on an X server, with its trace file."""

    def __init__(self, x: XServer, home: Path, trace: Path, *args: str) -> None:
        self.x = x
        self.trace_path = trace
        trace.write_text("")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "digitpad", "app", "--home", str(home), *args],
            env=x.env(DIGITPAD_UI_TRACE=str(trace)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        self._seen: dict[str, int] = {}

    def events(self) -> list[dict[str, Any]]:
        lines = self.trace_path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def wait(
        self, event: str, timeout: float = 20.0, where: Callable[[dict], bool] | None = None
    ) -> dict[str, Any]:
        """The next ``event`` of this kind (and satisfying ``where``): the first call returns
        the first one, the next call a later one, independent of events of other kinds."""
        deadline = time.monotonic() + timeout
        k = self._seen.get(event, 0)
        while time.monotonic() < deadline:
            matching = [e for e in self.events() if e["event"] == event]
            for i in range(k, len(matching)):
                if where is None or where(matching[i]):
                    self._seen[event] = i + 1
                    return matching[i]
            if self.proc.poll() is not None:
                raise AssertionError(f"app exited ({self.proc.returncode}): {self.stderr()}")
            time.sleep(0.02)
        raise AssertionError(f"no {event!r} within {timeout}s; trace: {self.events()}")

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return ""
        return self.proc.stderr.read() if self.proc.stderr else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


def stroke_args(points: list[tuple[float, float]], step: float = 4.0) -> list[str]:
    """xdotool arguments drawing a polyline with the left button, densely sampled."""
    dense: list[tuple[float, float]] = [points[0]]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        n = max(1, int(max(abs(x1 - x0), abs(y1 - y0)) / step))
        dense.extend((x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n) for k in range(1, n + 1))
    args = ["mousemove", str(round(dense[0][0])), str(round(dense[0][1])), "mousedown", "1"]
    # A short pause between moves, like a real hand: Tk merges motion events that are already
    # queued, so a burst of moves with no pause would reach the app as one straight segment.
    for x, y in dense[1:]:
        args += ["mousemove", str(round(x)), str(round(y)), "sleep", "0.003"]
    return [*args, "mouseup", "1"]
