"""Atomic writes: a file is either the old one or the complete new one, never half written.

Each write goes to a temporary file in the same directory, is flushed and fsynced, then renamed over the target
(``os.replace`` is atomic on POSIX and Windows); the directory is fsynced so the rename survives a power cut.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "check_directory",
    "fsync_dir",
    "remove_temporaries",
    "run_lock",
]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()  # what open() would give a new file; mkstemp's temporary files are 0o600


def fsync_dir(directory: str | os.PathLike[str]) -> None:
    """Flush a directory entry (a rename or a new file) to disk; a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # Windows cannot open a directory
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename) and return the path.

    >>> import tempfile, pathlib
    >>> p = atomic_write_bytes(pathlib.Path(tempfile.mkdtemp()) / "x.bin", b"abc")
    >>> p.read_bytes()
    b'abc'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically.

    >>> import tempfile, pathlib, json
    >>> p = atomic_write_json(pathlib.Path(tempfile.mkdtemp()) / "m.json", {"accuracy": 0.97})
    >>> json.loads(p.read_text())
    {'accuracy': 0.97}
    """
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, allow_nan=True) + "\n")


def remove_temporaries(directory: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files a write killed mid-way left in ``directory`` (``.NAME.XXXX.tmp``); returns them.

    Call it only where no other process is writing (a run directory when its run starts or resumes).
    """
    stale = sorted(Path(directory).glob(".*.tmp"))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def check_directory(path: str | os.PathLike[str], subject: str) -> Path:
    """``path`` can be (or become) a directory: no file in the way on it or any parent; ConfigError otherwise.

    >>> check_directory("runs/new", "out").name
    'new'
    """
    from almanac.errors import ConfigError, problem

    path = Path(path)
    for parent in (path, *path.parents):
        if parent.exists() and not parent.is_dir():
            raise problem(ConfigError, subject, "a directory (or a path to create one)", f"{parent} is a file",
                          "pick another path")
    return path


LOCK = "run.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


@contextlib.contextmanager
def run_lock(directory: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold ``directory/run.lock`` (this process's PID) while a run writes there: one process per run directory.

    A second process gets a ConfigError naming the PID that holds it; a lock left by a process that no longer
    runs (killed) is taken over. The lock is removed on exit.

    >>> import tempfile
    >>> with run_lock(tempfile.mkdtemp()) as lock:
    ...     int(lock.read_text()) == os.getpid()
    True
    """
    from almanac.errors import ConfigError, problem

    path = Path(directory) / LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                pid = int(path.read_text().strip() or "0")
            except (OSError, ValueError):
                pid = 0
            if pid > 0 and pid != os.getpid() and _alive(pid):
                raise problem(ConfigError, "run_dir", "to be free (one process per run)",
                              f"{path.parent} in use by process {pid}",
                              f"wait for process {pid} to finish, or stop it") from None
            path.unlink(missing_ok=True)  # stale: its process is gone
            continue
        with os.fdopen(fd, "w") as f:
            f.write(f"{os.getpid()}\n")
        break
    else:
        raise problem(ConfigError, "run_dir", "a lock file that can be created", str(path), "check the directory")
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)
