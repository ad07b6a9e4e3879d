"""The bottom bar: what just happened, retrain progress (with Cancel), the live accuracy counter."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk


class StatusBar:
    """Left: the last message. Middle: retrain progress, hidden when idle. Right: the counter."""

    def __init__(self, parent: tk.Misc, on_cancel: Callable[[], None]) -> None:
        self.frame = ttk.Frame(parent, padding=(8, 3))
        # The counter is packed first so a long message never pushes it out of the window.
        self.counter = ttk.Label(self.frame, text="", font=("DejaVu Sans", 10, "bold"))
        self.counter.pack(side="right")
        self.message = ttk.Label(
            self.frame, text="Draw digits, then Recognise (Ctrl+R). Press ? for every shortcut."
        )
        self.message.pack(side="left", fill="x", expand=True)
        self.progress_frame = ttk.Frame(self.frame)
        self.progress_text = ttk.Label(self.progress_frame, text="", width=44)
        self.bar = ttk.Progressbar(self.progress_frame, length=160, mode="determinate", maximum=1.0)
        self.cancel = ttk.Button(self.progress_frame, text="Cancel", takefocus=0, command=on_cancel)
        self.progress_text.pack(side="left", padx=4)
        self.bar.pack(side="left", padx=4)
        self.cancel.pack(side="left", padx=4)

    def say(self, text: str) -> None:
        self.message.configure(text=" ".join(text.split()))

    def set_counter(self, text: str) -> None:
        self.counter.configure(text=text)

    def show_progress(self, fraction: float | None, text: str) -> None:
        if not self.progress_frame.winfo_ismapped():
            self.progress_frame.pack(side="right", padx=12, before=self.message)
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
        self.bar.stop()
        self.progress_frame.pack_forget()
