"""The :class:`ModelRegistry` API: which model is active, registering candidates, promotion and
rollback, and the fallback to the last good model when the active file is missing or corrupt.

The document and its lock live in :mod:`digitpad.registry.document`, the file checks in
:mod:`digitpad.registry.integrity`.
"""

from __future__ import annotations

import os
import re
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

from digitpad.errors import ActiveModelChanged, ModelError
from digitpad.fsutil import fsync_dir
from digitpad.home import Home
from digitpad.registry.document import RegistryFile, records
from digitpad.registry.integrity import check_model_file, file_sha256
from digitpad.registry.versions import (
    SHIPPED_VERSION,
    ModelEntry,
    ModelFallbackWarning,
    parse_version,
    version_name,
)


def _utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _shipped_model_path() -> Path:
    # Looked up on the package at call time: ``digitpad.registry.shipped_model_path`` is the one
    # hook that points v1 elsewhere (tests and the retrain crash checks use a tiny model).
    import digitpad.registry as package

    return package.shipped_model_path()


class ModelRegistry:
    """The model versions of one data home (``<home>/models/``)."""

    def __init__(self, models_dir: Path) -> None:
        self.models_dir = Path(models_dir)
        self._file = RegistryFile(self.models_dir)
        self.registry_path = self._file.path

    @classmethod
    def for_home(cls, home: Home) -> ModelRegistry:
        return cls(home.models_dir)

    # ---- paths -----------------------------------------------------------------------------

    def model_path(self, version: int) -> Path:
        """Where version ``version``'s ONNX file lives (v1: the shipped file)."""
        if version == SHIPPED_VERSION:
            return _shipped_model_path()
        return self.models_dir / f"digitpad-v{version}.onnx"

    def checkpoint_path(self, version: int) -> Path:
        """Where version ``version``'s torch checkpoint lives (beside its ONNX file)."""
        return self.model_path(version).with_suffix(".pt")

    # ---- reading ---------------------------------------------------------------------------

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
        doc = self._file.load()
        active = int(doc.get("active", SHIPPED_VERSION))
        return [self._entry(r, active) for _, r in sorted(records(doc).items())]

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
        return self._resolve(self._file.load())

    def active_and_recorded(self) -> tuple[ModelEntry, int]:
        """:meth:`active`, and the version the registry records as active, from one reading
        (after a fallback, the one it records now): what :meth:`promote`'s ``over`` expects.

        Raises:
            ModelError: no usable model at all.
        """
        doc = self._file.load()
        entry = self._resolve(doc)
        if entry.warning is None:
            return entry, int(doc.get("active", SHIPPED_VERSION))
        return entry, self.recorded_active()  # the fallback was recorded, or not (read-only)

    def _resolve(self, doc: dict[str, Any]) -> ModelEntry:
        recs = records(doc)
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
        # a hand-edited file may name an active model it does not list
        problems: list[str] = [] if active in recs else ["it is not in the registry"]
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
            # `make model` builds beside the shipped model, so it no longer repairs it
            + " (reinstall digitpad; in a checkout, `git checkout models/` restores the shipped"
            + " model)"
        )

    # ---- writing ---------------------------------------------------------------------------

    def _mark_broken_best_effort(self, version: int, why: str, *, fallback: int) -> None:
        try:
            with self._file.locked() as doc:
                if int(doc.get("active", SHIPPED_VERSION)) != version:
                    return  # someone else already changed it
                recs = records(doc)
                if version in recs:
                    recs[version]["status"] = "broken"
                    recs[version]["message"] = why
                doc["versions"] = list(recs.values())
                self._activate(doc, fallback)
                self._file.save(doc)
        except OSError:
            pass  # a read-only home still gets the fallback, just with the warning each time

    def next_version(self) -> int:
        """The number the next registered model will get."""
        used = set(records(self._file.load()))
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
        with self._file.locked() as doc:
            recs = records(doc)
            dest, dest_ckpt = self.model_path(version), self.checkpoint_path(version)
            if version in recs or dest.exists():
                raise ModelError(f"model {version_name(version)} already exists")
            size, digest = onnx_file.stat().st_size, file_sha256(onnx_file)
            # Files first, registry last: a crash in between leaves an unregistered file, which
            # next_version() skips, never a registry entry without its file.
            if checkpoint_file is not None:
                os.replace(checkpoint_file, dest_ckpt)
            os.replace(onnx_file, dest)
            fsync_dir(self.models_dir)
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
            self._file.save(doc)
        return self.get(version)

    def update(
        self, version: int, *, metrics: dict[str, Any] | None = None, message: str | None = None
    ) -> ModelEntry:
        """Merge ``metrics`` into a version's record and/or set its message."""
        with self._file.locked() as doc:
            recs = records(doc)
            if version not in recs:
                raise ModelError(f"there is no model {version_name(version)}")
            if metrics:
                recs[version].setdefault("metrics", {}).update(metrics)
            if message is not None:
                recs[version]["message"] = message
            doc["versions"] = list(recs.values())
            self._file.save(doc)
        return self.get(version)

    def _activate(self, doc: dict[str, Any], version: int) -> None:
        recs = records(doc)
        old = int(doc.get("active", SHIPPED_VERSION))
        if old != version and old in recs and recs[old].get("status") != "broken":
            recs[old]["status"] = "retired"
        recs[version]["status"] = "active"
        doc["active"] = version
        history = [int(v) for v in doc.get("history", [SHIPPED_VERSION]) if int(v) != version]
        doc["history"] = [*history, version]
        doc["versions"] = list(recs.values())

    def recorded_active(self) -> int:
        """The version the registry names as active, as recorded (no fallback)."""
        return int(self._file.load().get("active", SHIPPED_VERSION))

    def promote(self, version: int | str, *, over: int | None = None) -> ModelEntry:
        """Make ``version`` the active model, atomically (one registry replace).

        The previous active model becomes ``retired``. A reader sees either the old active model
        or the new one. With ``over``, only when the recorded active model is still ``over``
        (checked under the registry's lock).

        Raises:
            ActiveModelChanged: another model than ``over`` is active now.
            ModelError: no such version, or its file is missing or corrupt.
        """
        v = parse_version(version)
        with self._file.locked() as doc:
            now = int(doc.get("active", SHIPPED_VERSION))
            if over is not None and now != over:
                raise ActiveModelChanged(
                    f"{version_name(now)} was made active while this ran, so "
                    f"{version_name(v)} stays a candidate (`digitpad models use "
                    f"{version_name(v)}` to use it)"
                )
            recs = records(doc)
            if v not in recs:
                raise ModelError(f"there is no model {version_name(v)} (see `digitpad models`)")
            entry = self._entry(recs[v], int(doc.get("active", SHIPPED_VERSION)))
            why = self.problem(entry)
            if why is not None:
                raise ModelError(f"cannot use {version_name(v)}: {why}")
            if recs[v].get("status") == "broken":
                recs[v]["message"] = "restored"
            self._activate(doc, v)
            self._file.save(doc)
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
