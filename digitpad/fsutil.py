"""Atomic file writes: the one implementation the registry, the dataset formats and the store use.

A write goes to a temporary file in the destination's own folder (so the rename never crosses a
file system), is flushed and fsynced, renamed over the destination with ``os.replace`` (atomic on
POSIX and Windows), and the folder is fsynced so the rename itself survives a power cut. Readers
see the old file or the whole new one, never a torn one; on any failure the temporary file is
removed and the old file is untouched.

The temporary file is created with ``os.open(..., mode)`` rather than ``tempfile.mkstemp`` so the
result gets ordinary permissions (0644 under the usual umask 022) instead of mkstemp's private
0600, without reading or changing the process umask (which is not thread-safe).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

DEFAULT_MODE = 0o644
_TRIES = 16


def temp_name(path: Path) -> Path:
    """A fresh temporary name beside ``path``: ``.<name>.<random>.tmp`` (hidden, easy to sweep)."""
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")


def fsync_dir(directory: Path) -> None:
    """Make renames and creations in ``directory`` durable.

    A no-op where a directory cannot be opened or fsynced (some platforms and file systems).
    """
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(
    path: Path,
    data: bytes,
    *,
    mode: int = DEFAULT_MODE,
    sync: bool = True,
    sync_dir: bool = True,
    make_parents: bool = False,
) -> None:
    """Write ``data`` to ``path`` atomically.

    Args:
        mode: permission bits of the new file, further masked by the process umask.
        sync: fsync the file before the rename (off only for files that are cheap to redo).
        sync_dir: fsync the folder after the rename; callers that write many files into one
            folder may turn it off and call :func:`fsync_dir` once themselves.
        make_parents: create missing parent folders first.

    Raises:
        OSError: the folder or file cannot be written (the old file, if any, is unchanged and
            no temporary file is left behind).
    """
    path = Path(path)
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp, fd = _create_temp(path, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if sync:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if sync_dir:
        fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str, **kwargs: bool | int) -> None:
    """Write ``text`` as UTF-8 to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"), **kwargs)  # type: ignore[arg-type]


def _create_temp(path: Path, mode: int) -> tuple[Path, int]:
    """Create and open (exclusively) a new temporary file beside ``path``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(_TRIES):
        tmp = temp_name(path)
        try:
            return tmp, os.open(tmp, flags, mode)
        except FileExistsError:
            continue  # 48 random bits collided: astronomically rare, just pick another name
    raise FileExistsError(f"could not create a temporary file beside {path}")
