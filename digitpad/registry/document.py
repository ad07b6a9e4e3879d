"""``registry.json``: reading, repairing and atomically replacing the one registry document,
with writers serialised by an advisory lock file.

Why one JSON file rather than SQLite: the registry holds tens of small records, people may want to
read it, and the single ``os.replace`` of a fully written and fsynced file makes every change,
promotion included, atomic: a reader sees the old registry or the new one, never a mix, and a
crash mid-write leaves the old file untouched.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from digitpad.errors import ModelError
from digitpad.fsutil import atomic_write_bytes
from digitpad.registry.versions import SHIPPED_VERSION, ModelFallbackWarning

REGISTRY_NAME = "registry.json"
LOCK_NAME = ".registry.lock"
FORMAT = 1
FILE_RE = re.compile(r"^digitpad-v(\d+)\.onnx$")


def shipped_record() -> dict[str, Any]:
    """The record of the shipped model v1 (implicit when the file does not list it)."""
    return {
        "version": SHIPPED_VERSION,
        "status": "active",
        "parent": None,
        "created": "",
        "metrics": {},
        "data_counts": {},
        "message": "shipped with digitpad",
    }


def empty_document() -> dict[str, Any]:
    """The registry of a home that has only the shipped model."""
    return {
        "format": FORMAT,
        "active": SHIPPED_VERSION,
        "history": [SHIPPED_VERSION],
        "versions": [shipped_record()],
    }


def records(doc: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The document's version records by number (v1 always present)."""
    recs = {int(r["version"]): r for r in doc["versions"]}
    recs.setdefault(SHIPPED_VERSION, shipped_record())
    return recs


# the fields of a version record the registry reads, and what each must be
_RECORD_FIELDS: dict[str, type | tuple[type, ...]] = {
    "status": str,
    "created": str,
    "message": str,
    "metrics": dict,
    "data_counts": dict,
    "parent": (int, type(None)),
}


def _newer_format(doc: Any) -> bool:
    """Whether ``doc`` (any JSON value) is a document of a later format than ``FORMAT`` (a
    format that is no whole number, such as Infinity, is damage, not a later format)."""
    fmt = doc.get("format") if isinstance(doc, dict) else None
    return _whole_number(fmt) and fmt > FORMAT


def _whole_number(n: Any) -> bool:
    """Whether the JSON value ``n`` is a whole number (not a bool; 1e400, an infinite float,
    is not whole)."""
    whole = isinstance(n, int) or (isinstance(n, float) and n.is_integer())
    return whole and not isinstance(n, bool)


def _check_document(doc: Any) -> None:
    """Raise ValueError or KeyError unless every field the registry reads as a number is a
    whole number: a hand-edited file must fall back, not crash each command."""
    if not isinstance(doc, dict) or not isinstance(doc.get("versions"), list):
        raise ValueError("not a registry document")
    if not isinstance(doc.get("history", []), list):
        raise ValueError("its history is not a list")
    numbers = [doc.get("format", FORMAT), doc.get("active", SHIPPED_VERSION)]
    numbers += doc.get("history", [])
    for rec in doc["versions"]:
        if not isinstance(rec, dict):
            raise ValueError("a version record is not an object")
        numbers.append(rec["version"])
        for key, kind in _RECORD_FIELDS.items():
            if key in rec and not isinstance(rec[key], kind):
                raise ValueError(f"the {key} of version {rec['version']!r} is {rec[key]!r}")
    for n in numbers:
        if not _whole_number(n):
            raise ValueError(f"{n!r} is not a version number")


class RegistryFile:
    """The ``registry.json`` of one models folder and its writer lock."""

    def __init__(self, models_dir: Path) -> None:
        self.models_dir = Path(models_dir)
        self.path = self.models_dir / REGISTRY_NAME

    def load(self) -> dict[str, Any]:
        """The registry document; a missing file means "only the shipped model".

        An unreadable file is not fatal: a :class:`ModelFallbackWarning` is issued and a document
        is rebuilt from the model files found beside it.

        Raises:
            ModelError: the file was written by a newer digitpad.
        """
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return empty_document()
        except OSError as exc:  # a folder in its place, no permission to read it
            raw = exc
        try:
            if isinstance(raw, OSError):
                raise ValueError(raw.strerror or type(raw).__name__)
            doc = json.loads(raw)
            # before the shape: a newer format may shape its fields otherwise, and must be
            # refused, never rebuilt and written over in the shape this version knows
            if _newer_format(doc):
                raise ModelError(f"{self.path} was written by a newer digitpad; upgrade to use it")
            _check_document(doc)
        except (ValueError, KeyError, TypeError, OverflowError) as exc:
            warnings.warn(
                f"model registry {self.path} is unreadable ({exc}); "
                "using the model files found beside it (the file is kept aside, not "
                "overwritten, when the registry is next written)",
                ModelFallbackWarning,
                stacklevel=3,  # the caller of the ModelRegistry method that read the file
            )
            return self._rebuilt_from_files()
        return doc

    def _rebuilt_from_files(self) -> dict[str, Any]:
        doc = empty_document()
        doc["rebuilt"] = True
        for p in sorted(self.models_dir.glob("digitpad-v*.onnx")):
            m = FILE_RE.match(p.name)
            if m and int(m.group(1)) != SHIPPED_VERSION:
                doc["versions"].append(
                    {
                        "version": int(m.group(1)),
                        "status": "candidate",
                        "parent": None,
                        "created": "",
                        "metrics": {},
                        "data_counts": {},
                        "message": "found on disk",
                    }
                )
        return doc

    @contextlib.contextmanager
    def locked(self) -> Iterator[dict[str, Any]]:
        """Hold the writer lock and yield the current document; the caller saves explicitly."""
        self.models_dir.mkdir(parents=True, exist_ok=True)
        with open(self.models_dir / LOCK_NAME, "a+b") as lock:
            try:
                import fcntl  # POSIX only; elsewhere writers are simply not serialised

                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            except ImportError:
                pass
            # Under the lock no other writer is mid-write, so any temp file is a crash leftover.
            for stale in self.models_dir.glob(f".{REGISTRY_NAME}.*.tmp"):
                with contextlib.suppress(OSError):
                    stale.unlink()
            yield self.load()

    def save(self, doc: dict[str, Any]) -> None:
        """Replace ``registry.json`` with ``doc`` atomically (call while holding :meth:`locked`).
        A document rebuilt in place of an unreadable file first moves that file aside (see
        :meth:`_keep_damaged`).

        Raises:
            OSError: the folder cannot be written.
        """
        rebuilt = doc.pop("rebuilt", False)
        doc["format"] = FORMAT
        doc["versions"] = sorted(records(doc).values(), key=lambda r: int(r["version"]))
        data = (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()
        if rebuilt:
            self._keep_damaged()
        atomic_write_bytes(self.path, data)

    def _keep_damaged(self) -> None:
        """Rename the unreadable ``registry.json`` (a file, or whatever stands in its place) to
        ``registry.json.damaged-<UTC time>``: the rebuilt document knows only the model files,
        and the metrics, parents and history the damaged one held may still be read from it by
        hand."""
        if not (self.path.exists() or self.path.is_symlink()):
            return
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        aside = self.path.with_name(f"{REGISTRY_NAME}.damaged-{stamp}")
        n = 1
        while aside.exists() or aside.is_symlink():
            n += 1
            aside = self.path.with_name(f"{REGISTRY_NAME}.damaged-{stamp}-{n}")
        self.path.rename(aside)
