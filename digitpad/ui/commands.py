"""Commands the person can run, each with a tester that says whether it is enabled now.

Toolbar buttons, menu items and key bindings all run commands by name, so a shortcut can never do
what a greyed-out button would refuse. :data:`KEYMAP` is the one table of shortcuts: the window
binds it and the help overlay (`?`) lists it, so the overlay cannot miss a key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from digitpad.errors import DigitpadError


def _always() -> bool:
    return True


@dataclass
class Command:
    """A named action: ``handler`` runs it, ``tester`` says whether it may run now."""

    name: str
    label: str
    handler: Callable[[], object]
    tester: Callable[[], bool] = _always
    accelerator: str = ""  # how the shortcut is shown in menus, e.g. "Ctrl+S"


class CommandSet:
    """Commands by name. Running a disabled command does nothing; user errors go to ``on_error``."""

    def __init__(self, on_error: Callable[[DigitpadError], None]) -> None:
        self._commands: dict[str, Command] = {}
        self.on_error = on_error
        self.before_run: Callable[[str], object] = lambda name: None
        self.after_run: Callable[[str], None] = lambda name: None

    def add(self, command: Command) -> Command:
        """Register ``command`` and return it.

        Raises:
            ValueError: a command with that name exists already.
        """
        if command.name in self._commands:
            raise ValueError(f"duplicate command {command.name!r}")
        self._commands[command.name] = command
        return command

    def __getitem__(self, name: str) -> Command:
        return self._commands[name]

    def __contains__(self, name: object) -> bool:
        return name in self._commands

    def names(self) -> list[str]:
        """Every command name, in the order they were added."""
        return list(self._commands)

    def enabled(self, name: str) -> bool:
        """Whether command ``name`` can run now.

        Raises:
            KeyError: no such command.
        """
        return self._commands[name].tester()

    def states(self) -> dict[str, bool]:
        """Every command's enabled state, for the toolbar and menus to mirror."""
        return {name: cmd.tester() for name, cmd in self._commands.items()}

    def run(self, name: str) -> bool:
        """Run ``name`` if it is enabled. Returns True when it ran (even if it reported an error).

        A :class:`DigitpadError` from the handler goes to ``on_error`` (one line for a dialog);
        anything else is a bug and propagates.
        """
        command = self._commands[name]
        self.before_run(name)  # before the tester: it may enable the command (a stroke ended)
        if not command.tester():
            return False
        try:
            command.handler()
        except DigitpadError as exc:
            self.on_error(exc)
        finally:
            self.after_run(name)
        return True


@dataclass(frozen=True)
class Shortcut:
    """One key binding: Tk event sequences, how the key is shown, what it does, which command."""

    sequences: tuple[str, ...]
    keys: str
    description: str
    command: str


def _digit_shortcuts() -> list[Shortcut]:
    return [
        Shortcut((f"<KeyPress-{d}>", f"<KP_{d}>"), d, f"label the box {d}", f"label_{d}")
        for d in "0123456789"
    ]


KEYMAP: tuple[Shortcut, ...] = (
    Shortcut(("<Tab>",), "Tab", "next box, least confident first", "next"),
    Shortcut(("<Shift-Tab>", "<ISO_Left_Tab>"), "Shift+Tab", "previous box", "prev"),
    *_digit_shortcuts(),
    Shortcut(
        ("<Delete>", "<BackSpace>", "<KP_Delete>"),
        "Delete",
        "not a digit (remove the box)",
        "delete",
    ),
    Shortcut(("<Return>", "<KP_Enter>"), "Enter", "accept the box and go on", "accept"),
    Shortcut(("<KeyPress-n>", "<KeyPress-N>"), "N", "new box here, then type its digit", "new_box"),
    Shortcut(("<Left>",), "←", "nudge the box left (Shift: ten times as far)", "nudge_left"),
    Shortcut(("<Right>",), "→", "nudge the box right", "nudge_right"),
    Shortcut(("<Up>",), "↑", "nudge the box up", "nudge_up"),
    Shortcut(("<Down>",), "↓", "nudge the box down", "nudge_down"),
    Shortcut(("<Shift-Left>",), "Shift+←", "nudge left, ten times as far", "nudge_left_10"),
    Shortcut(("<Shift-Right>",), "Shift+→", "nudge right, ten times as far", "nudge_right_10"),
    Shortcut(("<Shift-Up>",), "Shift+↑", "nudge up, ten times as far", "nudge_up_10"),
    Shortcut(("<Shift-Down>",), "Shift+↓", "nudge down, ten times as far", "nudge_down_10"),
    Shortcut(("<Control-z>", "<Control-Z>"), "Ctrl+Z", "undo (labels, boxes, strokes)", "undo"),
    Shortcut(
        ("<Control-y>", "<Control-Y>", "<Control-Shift-Z>", "<Control-Shift-z>"),
        "Ctrl+Y",
        "redo (Ctrl+Shift+Z too)",
        "redo",
    ),
    Shortcut(("<Control-s>", "<Control-S>"), "Ctrl+S", "save the review to the store", "save"),
    Shortcut(("<Control-r>", "<Control-R>"), "Ctrl+R", "recognise the page", "recognise"),
    Shortcut(("<Control-o>", "<Control-O>"), "Ctrl+O", "open a page image", "open"),
    Shortcut(("<Control-n>", "<Control-N>"), "Ctrl+N", "new blank page", "new"),
    Shortcut(("<Control-q>", "<Control-Q>"), "Ctrl+Q", "quit (asks about unsaved work)", "quit"),
    Shortcut(("<KeyPress-p>", "<KeyPress-P>"), "P", "pen tool", "tool_pen"),
    Shortcut(("<KeyPress-e>", "<KeyPress-E>"), "E", "eraser tool", "tool_eraser"),
    Shortcut(("<KeyPress-b>", "<KeyPress-B>"), "B", "box tool: select, move, add", "tool_box"),
    Shortcut(("<bracketleft>",), "[", "thinner pen", "pen_thinner"),
    Shortcut(("<bracketright>",), "]", "thicker pen", "pen_thicker"),
    Shortcut(("<Control-0>", "<KeyPress-f>", "<KeyPress-F>"), "F / Ctrl+0", "fit page", "fit"),
    Shortcut(("<plus>", "<equal>", "<KP_Add>"), "+", "zoom in", "zoom_in"),
    Shortcut(("<minus>", "<KP_Subtract>"), "−", "zoom out", "zoom_out"),
    Shortcut(("<Control-l>", "<Control-L>"), "Ctrl+L", "clear the page (undoable)", "clear"),
    Shortcut(("<Control-t>", "<Control-T>"), "Ctrl+T", "retrain on your corrections", "retrain"),
    Shortcut(("<Control-i>", "<Control-I>"), "Ctrl+I", "accuracy stats window", "stats"),
    Shortcut(("<question>", "<F1>"), "?", "show or hide this list", "help"),
    Shortcut(("<Escape>",), "Esc", "close this list / deselect", "escape"),
)

# Mouse gestures are not key bindings, but the overlay lists them too.
MOUSE_HELP: tuple[tuple[str, str], ...] = (
    ("drag", "draw (pen) / rub out (eraser)"),
    ("drag on paper", "box tool: new box, then its digit"),
    ("drag box/handle", "box tool: move / resize"),
    ("wheel", "zoom at the pointer"),
    ("right drag", "pan (middle drag too)"),
)
