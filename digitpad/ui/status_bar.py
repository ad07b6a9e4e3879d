"""The bottom bar: what just happened, retrain progress (with Cancel), the live accuracy counter."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk


class StatusBar:
    """Left: the last message; right: the counter; above them, retrain progress while it runs."""

    def __init__(self, parent: tk.Misc, on_cancel: Callable[[], None]) -> None:
        self.frame = ttk.Frame(parent)
        row = ttk.Frame(self.frame, padding=(8, 3))
        row.pack(side="bottom", fill="x")
        # The counter is packed first so a long message never pushes it out of the window.
        self.counter = ttk.Label(row, text="", font=("DejaVu Sans", 10, "bold"))
        self.counter.pack(side="right")
        self.message = ttk.Label(
            row, text="Draw digits, then Recognise (Ctrl+R). Press ? for every shortcut."
        )
        self.message.pack(side="left", fill="x", expand=True)
        # Retrain progress gets its own row above, shown only while a retrain runs.
        self.progress_frame = ttk.Frame(self.frame, padding=(8, 3, 8, 0))
        self.cancel = ttk.Button(self.progress_frame, text="Cancel", takefocus=0, command=on_cancel)
        self.cancel.pack(side="right", padx=4)
        self.bar = ttk.Progressbar(self.progress_frame, length=240, mode="determinate", maximum=1.0)
        self.bar.pack(side="right", padx=4)
        self.progress_text = ttk.Label(self.progress_frame, text="")
        self.progress_text.pack(side="left", fill="x", expand=True)

    def say(self, text: str) -> None:
        """Show ``text`` (on one line) as the status message."""
        self.message.configure(text=" ".join(text.split()))

    def set_counter(self, text: str) -> None:
        """Show the live accuracy counter text."""
        self.counter.configure(text=text)

    def show_progress(self, fraction: float | None, text: str) -> None:
        """Show the retrain progress row: ``fraction`` 0..1 (None: no estimate yet), ``text``."""
        if not self.progress_frame.winfo_manager():  # not packed yet
            self.progress_frame.pack(side="top", fill="x")
        self.progress_text.configure(text=f"Retraining: {text}")
        if fraction is None:
            if str(self.bar.cget("mode")) != "indeterminate":
                self.bar.configure(mode="indeterminate")
                self.bar.start(60)
        else:
            if str(self.bar.cget("mode")) != "determinate":
                self.bar.stop()
                self.bar.configure(mode="determinate")
            self.bar.configure(value=fraction)

    def hide_progress(self) -> None:
        """Remove the retrain progress row."""
        self.bar.stop()
        self.progress_frame.pack_forget()
