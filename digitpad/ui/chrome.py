"""Toolbar, menus and key bindings, all built from the command set (so they always agree)."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable, Mapping, Sequence
from tkinter import ttk

from digitpad.ui.commands import KEYMAP, CommandSet

SEPARATE_AFTER = ("open", "save", "redo")  # toolbar groups: files | page | edits | model


def build_toolbar(
    parent: ttk.Frame, commands: CommandSet, names: Sequence[str]
) -> dict[str, ttk.Button]:
    """One button per command name, in order; returns them by name."""
    buttons = {}
    for name in names:
        button = ttk.Button(
            parent, text=commands[name].label, takefocus=0, command=lambda n=name: commands.run(n)
        )
        button.pack(side="left", padx=2)
        buttons[name] = button
        if name in SEPARATE_AFTER:
            ttk.Separator(parent, orient="vertical").pack(side="left", fill="y", padx=4)
    ttk.Label(parent, text="? shortcuts", foreground="#666").pack(side="right", padx=6)
    return buttons


def build_menus(
    root: tk.Tk, commands: CommandSet, groups: Mapping[str, Sequence[str | None]]
) -> dict[str, tuple[tk.Menu, int]]:
    """A menu bar (None = separator); returns each command's (menu, index) for enabling."""
    bar = tk.Menu(root)
    entries: dict[str, tuple[tk.Menu, int]] = {}
    for title, names in groups.items():
        menu = tk.Menu(bar, tearoff=False)
        for name in names:
            if name is None:
                menu.add_separator()
                continue
            cmd = commands[name]
            menu.add_command(
                label=cmd.label, accelerator=cmd.accelerator, command=lambda n=name: commands.run(n)
            )
            entries[name] = (menu, menu.index("end"))
        bar.add_cascade(label=title, menu=menu)
    root.configure(menu=bar)
    return entries


# The modifiers that make another shortcut, by windowing system, as Tk's event state bits
# (NumLock and CapsLock are never among them: digits on the keypad, caps on, still work).
_COMMAND_MODIFIERS = {
    "x11": {"Control": 0x4, "Alt": 0x8, "Super": 0x40},
    "win32": {"Control": 0x4, "Alt": 0x20000},
    "aqua": {"Control": 0x4, "Command": 0x8, "Option": 0x10},
}


def bind_keys(root: tk.Misc, on_key: Callable[[str], str], *, skip: Sequence[str] = ()) -> None:
    """Bind every shortcut of :data:`KEYMAP` but those of the commands in ``skip`` on the
    window to its command.

    A key held with a modifier its shortcut does not name does nothing: Tk would run the
    plain key's binding (Ctrl+6 relabelled the box, Ctrl+Left nudged it).
    """
    system = str(root.tk.call("tk", "windowingsystem"))
    modifiers = _COMMAND_MODIFIERS.get(system, {"Control": 0x4})
    every = sum(modifiers.values())
    for shortcut in KEYMAP:
        if shortcut.command in skip:
            continue
        for seq in shortcut.sequences:
            named = sum(bit for name, bit in modifiers.items() if f"<{name}-" in seq)
            root.bind(seq, _guarded(on_key, shortcut.command, every & ~named))


BUTTON1 = 0x100  # in a key event's state: the left button is held (the pen is down)


def _guarded(
    on_key: Callable[[str, bool], str], name: str, unwanted: int
) -> Callable[..., str | None]:
    def handler(event: tk.Event) -> str | None:
        state = int(event.state)
        return None if state & unwanted else on_key(name, bool(state & BUTTON1))

    return handler


def mirror_states(
    states: dict[str, bool],
    previous: dict[str, bool],
    buttons: Mapping[str, ttk.Button],
    menus: Mapping[str, tuple[tk.Menu, int]],
) -> dict[str, bool]:
    """Enable or grey out buttons and menu items whose command changed state; returns states."""
    for name, enabled in states.items():
        if previous.get(name) == enabled:
            continue
        if name in buttons:
            buttons[name].state(["!disabled"] if enabled else ["disabled"])
        if name in menus:
            menu, index = menus[name]
            menu.entryconfigure(index, state="normal" if enabled else "disabled")
    return states
