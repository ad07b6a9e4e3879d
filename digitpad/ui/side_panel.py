"""The panel beside the page: tools, and the selected box (label buttons, confidence, top-3)."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from digitpad.ui import style
from digitpad.ui.drawing import MAX_WIDTH, MIN_WIDTH
from digitpad.ui.editor import Editor


class SidePanel:
    """Shows the selected box and runs commands by name (``run("label_7")``)."""

    def __init__(
        self,
        parent: tk.Misc,
        run: Callable[[str], object],
        on_width: Callable[[int], None],
        on_tool: Callable[[str], None],
    ) -> None:
        self.frame = ttk.Frame(parent, padding=(10, 8), width=230)
        self._run = run
        self._on_width = on_width
        self.tool = tk.StringVar(value="pen")
        self.width = tk.IntVar(value=8)
        self._build_tools()
        self._build_box()

    def _build_tools(self) -> None:
        f = self.frame
        ttk.Label(f, text="Tools", font=style.FONT_BOLD).pack(anchor="w")
        row = ttk.Frame(f)
        row.pack(fill="x", pady=(2, 4))
        for name, text in (("pen", "Pen P"), ("eraser", "Eraser E"), ("box", "Boxes B")):
            ttk.Radiobutton(
                row,
                text=text,
                value=name,
                variable=self.tool,
                takefocus=0,
                command=lambda n=name: self._run(f"tool_{n}"),
            ).pack(side="left", padx=(0, 4))
        wrow = ttk.Frame(f)
        wrow.pack(fill="x")
        ttk.Label(wrow, text="Pen width").pack(side="left")
        self.width_label = ttk.Label(wrow, text="8 px", width=6)
        self.width_label.pack(side="right")
        self.width_scale = ttk.Scale(
            f,
            from_=MIN_WIDTH,
            to=MAX_WIDTH,  # as far as [ and ] go: the slider must not sit pinned below them
            orient="horizontal",
            variable=self.width,
            takefocus=0,
            command=lambda v: self._width_changed(float(v)),
        )
        self.width_scale.pack(fill="x")
        ttk.Button(
            f, text="Clear page  Ctrl+L", takefocus=0, command=lambda: self._run("clear")
        ).pack(fill="x", pady=(4, 10))
        ttk.Separator(f).pack(fill="x", pady=4)

    def _width_changed(self, value: float) -> None:
        self.width_label.configure(text=f"{round(value)} px")
        self._on_width(round(value))

    def _build_box(self) -> None:
        f = self.frame
        ttk.Label(f, text="Selected box", font=style.FONT_BOLD).pack(anchor="w")
        self.position = ttk.Label(f, text="", foreground="#555")
        self.position.pack(anchor="w")
        self.big = tk.Label(f, text="–", font=style.FONT_BIG, width=3, relief="flat")
        self.big.pack(pady=4)
        self.confidence = ttk.Label(f, text="")
        self.confidence.pack(anchor="w")
        ttk.Label(f, text="Top alternatives (click to use)").pack(anchor="w", pady=(6, 0))
        self.alt_buttons: list[ttk.Button] = []
        for _ in range(3):
            b = ttk.Button(f, text="", takefocus=0)
            b.pack(fill="x", pady=1)
            self.alt_buttons.append(b)
        ttk.Label(f, text="Label (keys 0-9)").pack(anchor="w", pady=(8, 0))
        grid = ttk.Frame(f)
        grid.pack()
        self.digit_buttons: list[ttk.Button] = []
        for i, d in enumerate("1234567890"):
            b = ttk.Button(
                grid, text=d, width=3, takefocus=0, command=lambda d=d: self._run(f"label_{d}")
            )
            b.grid(row=i // 5, column=i % 5, padx=1, pady=1)
            self.digit_buttons.append(b)
        self.not_digit = ttk.Button(
            f, text="Not a digit  Del", takefocus=0, command=lambda: self._run("delete")
        )
        self.not_digit.pack(fill="x", pady=(6, 1))
        self.accept = ttk.Button(
            f, text="Accept and next  Enter", takefocus=0, command=lambda: self._run("accept")
        )
        self.accept.pack(fill="x", pady=1)
        self.reading = ttk.Label(f, text="", wraplength=210, justify="left", foreground="#333")
        self.reading.pack(anchor="w", pady=(10, 0))

    def show(self, editor: Editor, reading: str = "") -> None:
        """Mirror the selected box of ``editor`` (buttons disabled when none is selected)."""
        box = editor.current
        state = ["!disabled"] if box is not None else ["disabled"]
        for b in (*self.digit_buttons, self.not_digit, self.accept):
            b.state(state)
        self.reading.configure(text=f"Reading:\n{reading}" if reading else "")
        if box is None:
            self.position.configure(
                text="none: Tab goes to the next box" if editor.visible() else "none"
            )
            self.big.configure(text="–", fg="#888")
            self.confidence.configure(text="")
            self._show_alternatives([])
            return
        queue = editor.review_queue()
        pos = queue.index(box.id) + 1 if box.id in queue else 0
        self.position.configure(text=f"{pos} of {len(queue)} in the review queue")
        self.big.configure(text=box.label or "?", fg=style.box_colour(box))
        pred = box.prediction
        if pred is None:
            self.confidence.configure(text="added by you" + ("" if box.label else ": type a digit"))
            self._show_alternatives([])
            return
        note = "" if box.label == pred.label else f" (you: {box.label})"
        self.confidence.configure(text=f"model: {pred.label} at {pred.confidence:.1%}{note}")
        self._show_alternatives([(a.label, a.score) for a in pred.alternatives])

    def _show_alternatives(self, options: list[tuple[str, float]]) -> None:
        """One button per alternative (label and score) that relabels; the rest disabled."""
        for i, b in enumerate(self.alt_buttons):
            if i < len(options):
                label, score = options[i]
                b.configure(
                    text=f"{label}   {score:.1%}", command=lambda x=label: self._run(f"label_{x}")
                )
                b.state(["!disabled"])
            else:
                b.configure(text="", command=lambda: None)
                b.state(["disabled"])
