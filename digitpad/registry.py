"""Model versions in ``<home>/models/``: which model is active, where each one came from, and a
safe way back.

Layout of ``<home>/models/``::

    digitpad-v1.onnx / .pt    the shipped model (only in the checkout; other homes resolve v1 to
                              the checkout's shipped file, which is never written to)
    digitpad-vN.onnx / .pt    retrained versions (N >= 2) and their torch checkpoints
    registry.json             the versions, their status and metrics, and the active version

Why one JSON file rather than SQLite: the registry holds tens of small records, people may want to
read it, and the single ``os.replace`` of a fully written and fsynced file makes every change,
promotion included, atomic: a reader sees the old registry or the new one, never a mix, and a
crash mid-write leaves the old file untouched. Writers are serialised with an advisory lock file.

This module never imports torch or onnxruntime (the app reads it on start); a model file is checked
cheaply (exists, ONNX protobuf header, size and SHA-256 recorded at registration).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from digitpad.errors import ModelError
from digitpad.home import Home, shipped_model_path

REGISTRY_NAME = "registry.json"
LOCK_NAME = ".registry.lock"
FORMAT = 1
STATUSES: tuple[str, ...] = ("active", "candidate", "retired", "broken")
SHIPPED_VERSION = 1
_FILE_RE = re.compile(r"^digitpad-v(\d+)\.onnx$")
# A serialised onnx ModelProto starts with field 1 (ir_version, varint): tag byte 0x08.
_ONNX_FIRST_BYTE = 0x08
_MIN_ONNX_BYTES = 64


class ModelFallbackWarning(UserWarning):
    """The active model could not be used; an older good one is used instead."""


def version_name(version: int) -> str:
    """The display form of a version number: 3 -> "v3"."""
    return f"v{int(version)}"


def parse_version(text: str | int) -> int:
    """ "v3", "3" or 3 -> 3.

    Raises:
        ModelError: not a version.
    """
    if isinstance(text, int):
        number = text
    else:
        m = re.fullmatch(r"\s*[vV]?(\d+)\s*", str(text))
        if not m:
            raise ModelError(f"{text!r} is not a model version (expected e.g. v2 or 2)")
        number = int(m.group(1))
    if number < 1:
        raise ModelError(f"{text!r} is not a model version (versions start at v1)")
    return number


@dataclass(frozen=True)
class ModelEntry:
    """One model version as the registry knows it.

    ``warning`` is set only on the entry returned by :meth:`ModelRegistry.active` when it had to
    fall back from the recorded active version; the CLI and the app show it.
    """

    version: int
    path: Path
    checkpoint_path: Path | None
    status: str
    parent: int | None = None
    created: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    data_counts: dict[str, Any] = field(default_factory=dict)
    sha256: str | None = None
    size: int | None = None
    message: str = ""
    warning: str | None = None

    @property
    def name(self) -> str:
        return version_name(self.version)

    @property
    def shipped(self) -> bool:
        return self.version == SHIPPED_VERSION


def _utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of a file (read in 1 MiB chunks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_model_file(
    path: Path, *, size: int | None = None, sha256: str | None = None
) -> str | None:
    """Why ``path`` is not a usable ONNX model, or None when it looks fine.

    Cheap: existence, the protobuf header byte, and (when recorded) the exact size and hash.
    It does not load the model; the classifier does that.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        return f"{path.name} is missing"
    except OSError as exc:
        return f"{path.name} cannot be read: {exc.strerror or exc}"
    if st.st_size < _MIN_ONNX_BYTES:
        return f"{path.name} is truncated ({st.st_size} bytes)"
    if size is not None and st.st_size != size:
        return f"{path.name} changed size ({st.st_size} bytes, registered {size})"
    try:
        with open(path, "rb") as fh:
            first = fh.read(1)
    except OSError as exc:
        return f"{path.name} cannot be read: {exc.strerror or exc}"
    if not first or first[0] != _ONNX_FIRST_BYTE:
        return f"{path.name} is not an ONNX model"
    if sha256 is not None and file_sha256(path) != sha256:
        return f"{path.name} is corrupt (its checksum changed)"
    return None


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not every platform can open a directory.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temp file beside it, fsync, rename, fsync dir.

    A crash at any point leaves either the old file or the new one, never a mix.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


class ModelRegistry:
    """The model versions of one data home (``<home>/models/``)."""

    def __init__(self, models_dir: Path) -> None:
        self.models_dir = Path(models_dir)
        self.registry_path = self.models_dir / REGISTRY_NAME

    @classmethod
    def for_home(cls, home: Home) -> ModelRegistry:
        return cls(home.models_dir)

    # ---- paths -----------------------------------------------------------------------------

    def model_path(self, version: int) -> Path:
        """Where version ``version``'s ONNX file lives (v1: the shipped file)."""
        if version == SHIPPED_VERSION:
            return shipped_model_path()
        return self.models_dir / f"digitpad-v{version}.onnx"

    def checkpoint_path(self, version: int) -> Path:
        """Where version ``version``'s torch checkpoint lives (beside its ONNX file)."""
        return self.model_path(version).with_suffix(".pt")

    # ---- reading ---------------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        """The registry document; a missing file means "only the shipped model"."""
        try:
            raw = self.registry_path.read_bytes()
        except FileNotFoundError:
            return self._empty()
        try:
            doc = json.loads(raw)
            if not isinstance(doc, dict) or not isinstance(doc.get("versions"), list):
                raise ValueError("not a registry document")
            if int(doc.get("format", FORMAT)) > FORMAT:
                raise ModelError(
                    f"{self.registry_path} was written by a newer digitpad; upgrade to use it"
                )
            for rec in doc["versions"]:
                int(rec["version"])
        except (ValueError, KeyError, TypeError) as exc:
            warnings.warn(
                f"model registry {self.registry_path} is unreadable ({exc}); "
                "using the model files found beside it",
                ModelFallbackWarning,
                stacklevel=3,
            )
            return self._rebuilt_from_files()
        return doc

    def _empty(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "active": SHIPPED_VERSION,
            "history": [SHIPPED_VERSION],
            "versions": [self._shipped_record()],
        }

    def _shipped_record(self) -> dict[str, Any]:
        return {
            "version": SHIPPED_VERSION,
            "status": "active",
            "parent": None,
            "created": "",
            "metrics": {},
            "data_counts": {},
            "message": "shipped with digitpad",
        }

    def _rebuilt_from_files(self) -> dict[str, Any]:
        doc = self._empty()
        doc["rebuilt"] = True
        for p in sorted(self.models_dir.glob("digitpad-v*.onnx")):
            m = _FILE_RE.match(p.name)
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

    def _records(self, doc: dict[str, Any]) -> dict[int, dict[str, Any]]:
        recs = {int(r["version"]): r for r in doc["versions"]}
        recs.setdefault(SHIPPED_VERSION, self._shipped_record())
        return recs

    def _entry(self, rec: dict[str, Any], active: int) -> ModelEntry:
        v = int(rec["version"])
        status = rec.get("status", "candidate")
        if status == "active" and v != active:
            status = "retired"  # the "active" key is the single source of truth
        if v == active and status != "broken":
            status = "active"
        ckpt = self.checkpoint_path(v)
        return ModelEntry(
            version=v,
            path=self.model_path(v),
            checkpoint_path=ckpt if ckpt.exists() else None,
            status=status,
            parent=rec.get("parent"),
            created=rec.get("created", ""),
            metrics=dict(rec.get("metrics") or {}),
            data_counts=dict(rec.get("data_counts") or {}),
            sha256=rec.get("sha256"),
            size=rec.get("size"),
            message=rec.get("message", ""),
        )

    def list(self) -> list[ModelEntry]:
        """Every known version, oldest first (v1 always included)."""
        doc = self._load()
        active = int(doc.get("active", SHIPPED_VERSION))
        return [self._entry(r, active) for _, r in sorted(self._records(doc).items())]

    def get(self, version: int | str) -> ModelEntry:
        """One version's entry.

        Raises:
            ModelError: no such version.
        """
        v = parse_version(version)
        for e in self.list():
            if e.version == v:
                return e
        raise ModelError(f"there is no model {version_name(v)} (see `digitpad models`)")

    def problem(self, entry: ModelEntry) -> str | None:
        """Why ``entry``'s file is unusable, or None (see :func:`check_model_file`)."""
        return check_model_file(entry.path, size=entry.size, sha256=entry.sha256)

    def active(self) -> ModelEntry:
        """The model to use now.

        When the recorded active model is missing or corrupt, the most recently active good model
        is returned instead, with ``warning`` set and a :class:`ModelFallbackWarning` issued; the
        broken version is marked ``broken`` (best effort) so the warning is shown once.

        Raises:
            ModelError: no usable model at all (not even the shipped one).
        """
        doc = self._load()
        recs = self._records(doc)
        active = int(doc.get("active", SHIPPED_VERSION))
        history = [int(v) for v in doc.get("history", [])]
        # Candidates in order of preference: the active one, then earlier actives newest first,
        # then the shipped model.
        order: list[int] = []
        for v in [active, *reversed(history), SHIPPED_VERSION]:
            if v in order or v not in recs:
                continue
            if v != active and recs[v].get("status") == "broken":
                continue
            order.append(v)
        problems: list[str] = []
        for v in order:
            entry = self._entry(recs[v], active)
            why = self.problem(entry)
            if why is None:
                if v == active:
                    return entry
                text = (
                    f"model {version_name(active)} cannot be used ({problems[0]}); "
                    f"using {entry.name} instead"
                )
                warnings.warn(text, ModelFallbackWarning, stacklevel=2)
                self._mark_broken_best_effort(active, problems[0], fallback=v)
                return replace(entry, status="active", warning=text)
            problems.append(why)
        raise ModelError(
            "no usable model: "
            + "; ".join(problems)
            + " (reinstall digitpad or run `make model` to rebuild the shipped model)"
        )

    # ---- writing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
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
            yield self._load()

    def _save(self, doc: dict[str, Any]) -> None:
        doc.pop("rebuilt", None)
        doc["format"] = FORMAT
        doc["versions"] = sorted(self._records(doc).values(), key=lambda r: int(r["version"]))
        data = (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()
        atomic_write_bytes(self.registry_path, data)

    def _mark_broken_best_effort(self, version: int, why: str, *, fallback: int) -> None:
        try:
            with self._locked() as doc:
                if int(doc.get("active", SHIPPED_VERSION)) != version:
                    return  # someone else already changed it
                recs = self._records(doc)
                if version in recs:
                    recs[version]["status"] = "broken"
                    recs[version]["message"] = why
                doc["versions"] = list(recs.values())
                self._activate(doc, fallback)
                self._save(doc)
        except OSError:
            pass  # a read-only home still gets the fallback, just with the warning each time

    def next_version(self) -> int:
        """The number the next registered model will get."""
        used = set(self._records(self._load()))
        for p in self.models_dir.glob("digitpad-v*.*"):
            m = re.match(r"^digitpad-v(\d+)\.", p.name)
            if m:
                used.add(int(m.group(1)))
        return max(used) + 1

    def add_candidate(
        self,
        version: int,
        onnx_file: Path,
        checkpoint_file: Path | None,
        *,
        parent: int | None,
        metrics: dict[str, Any] | None = None,
        data_counts: dict[str, Any] | None = None,
        message: str = "",
    ) -> ModelEntry:
        """Register a freshly exported model as version ``version`` with status ``candidate``.

        ``onnx_file`` and ``checkpoint_file`` (fully written, e.g. staged temp files in the models
        folder) are renamed into place as ``digitpad-vN.onnx`` / ``.pt``; the registry records their
        size and SHA-256 so later corruption is noticed.

        Raises:
            ModelError: the version is taken or is the shipped one, or the file is not ONNX.
        """
        if version <= SHIPPED_VERSION:
            raise ModelError("version 1 is the shipped model and is never overwritten")
        onnx_file = Path(onnx_file)
        why = check_model_file(onnx_file)
        if why is not None:
            raise ModelError(f"cannot register model: {why}")
        with self._locked() as doc:
            recs = self._records(doc)
            dest, dest_ckpt = self.model_path(version), self.checkpoint_path(version)
            if version in recs or dest.exists():
                raise ModelError(f"model {version_name(version)} already exists")
            size, digest = onnx_file.stat().st_size, file_sha256(onnx_file)
            # Files first, registry last: a crash in between leaves an unregistered file, which
            # next_version() skips, never a registry entry without its file.
            if checkpoint_file is not None:
                os.replace(checkpoint_file, dest_ckpt)
            os.replace(onnx_file, dest)
            _fsync_dir(self.models_dir)
            recs[version] = {
                "version": version,
                "status": "candidate",
                "parent": parent,
                "created": _utc_now(),
                "metrics": dict(metrics or {}),
                "data_counts": dict(data_counts or {}),
                "sha256": digest,
                "size": size,
                "message": message,
            }
            doc["versions"] = list(recs.values())
            self._save(doc)
        return self.get(version)

    def update(
        self, version: int, *, metrics: dict[str, Any] | None = None, message: str | None = None
    ) -> ModelEntry:
        """Merge ``metrics`` into a version's record and/or set its message."""
        with self._locked() as doc:
            recs = self._records(doc)
            if version not in recs:
                raise ModelError(f"there is no model {version_name(version)}")
            if metrics:
                recs[version].setdefault("metrics", {}).update(metrics)
            if message is not None:
                recs[version]["message"] = message
            doc["versions"] = list(recs.values())
            self._save(doc)
        return self.get(version)

    def _activate(self, doc: dict[str, Any], version: int) -> None:
        recs = self._records(doc)
        old = int(doc.get("active", SHIPPED_VERSION))
        if old != version and old in recs and recs[old].get("status") != "broken":
            recs[old]["status"] = "retired"
        recs[version]["status"] = "active"
        doc["active"] = version
        history = [int(v) for v in doc.get("history", [SHIPPED_VERSION]) if int(v) != version]
        doc["history"] = [*history, version]
        doc["versions"] = list(recs.values())

    def promote(self, version: int | str) -> ModelEntry:
        """Make ``version`` the active model, atomically (one registry replace).

        The previous active model becomes ``retired``. A reader sees either the old active model
        or the new one.

        Raises:
            ModelError: no such version, or its file is missing or corrupt.
        """
        v = parse_version(version)
        with self._locked() as doc:
            recs = self._records(doc)
            if v not in recs:
                raise ModelError(f"there is no model {version_name(v)} (see `digitpad models`)")
            entry = self._entry(recs[v], int(doc.get("active", SHIPPED_VERSION)))
            why = self.problem(entry)
            if why is not None:
                raise ModelError(f"cannot use {version_name(v)}: {why}")
            if recs[v].get("status") == "broken":
                recs[v]["message"] = "restored"
            self._activate(doc, v)
            self._save(doc)
        return self.get(v)

    def use(self, version: int | str) -> ModelEntry:
        """Roll back or forward to ``version`` (``digitpad models use``): see :meth:`promote`."""
        return self.promote(version)


def active_model_path(home: Home) -> Path:
    """The ONNX file of the home's active model (with the registry's fallback and warning).

    Raises:
        ModelError: no usable model at all.
    """
    return ModelRegistry(home.models_dir).active().path
