"""Staging directories: private while they exist, held while a run works in them, removed after.

A run's staging directory is ``<root>/<connection>/<entity>/<run>/`` (see
`include.airflow.glue.staging_dir`); the pipeline writes the source's raw records there.

- **Private.** On a local disk (``file://`` or a `pathlib.Path`) every directory this module
  creates is 0700 and every file 0600, whatever the umask: the files hold raw source data.
  Object storage has no mode bits; there the bucket's or prefix's access policy applies.
- **Held.** While a task works in a run directory it holds an exclusive ``flock`` on the
  directory's `LOCK` file (`lease`). The kernel drops it when the process ends, ``kill -9``
  included, so a lock that can be taken means no process works there any more. Object storage
  has no such lock: nothing is held there.
- **Removed.** `clean_after_success` runs after a run's last task succeeded: it removes that run's
  directory, every other run directory of the same connection and entity whose lock can be taken
  (a killed or failed run: a retry of it would start over, which the store's upserts make safe),
  and, under the whole root, run directories not held and unchanged for ``max_age``.

Directories without a lock file (object storage, or made by an older version) are only removed by
age. A staged run (``extract -> map -> load`` as three tasks) holds no lock between its tasks; only
a run of the same DAG at the same time could remove its files then, and ``max_active_runs=1``
allows that only for a backfill beside the schedule (its next task would fail, and the run after
reads the source again).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock, removal by age only
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
LOCK = ".lock"
_LOCAL_PROTOCOLS = ("file", "local")
# run directories this process holds, and how many times (a lease nests: the streaming shape's
# retry path calls the staged steps, which hold the same directory; flock locks of two opens of
# one file exclude each other even within a process)
_HELD: dict[Path, int] = {}
_HELD_LOCK = threading.Lock()


class StagingInUse(RuntimeError):
    """Another process holds the run directory (an earlier try of the same task still running)."""


def local_path(path: Any) -> Path | None:
    """The local path behind a staging path, or None for object storage."""
    if isinstance(path, Path):
        return path
    protocol = getattr(path, "protocol", None)
    if isinstance(protocol, tuple | list):
        protocol = protocol[0] if protocol else None
    if protocol in _LOCAL_PROTOCOLS:
        return Path(path.path)
    return None


def make_dir(path: Any) -> None:
    """``mkdir -p path``; on a local disk every directory it creates, and ``path`` itself, 0700."""
    local = local_path(path)
    if local is None:
        path.mkdir(parents=True, exist_ok=True)
        return
    missing: list[Path] = []
    probe = local
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:  # another run made it in the meantime
            continue
        os.chmod(directory, DIR_MODE)  # exactly 0700, whatever the umask
    os.chmod(local, DIR_MODE)  # a run directory made by an older version


def create(path: Any) -> BinaryIO:
    """Open ``path`` for writing from empty; 0600 on a local disk (also when it existed)."""
    local = local_path(path)
    if local is None:
        return path.open("wb")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(local, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "wb")


@contextmanager
def lease(run_dir: Any) -> Iterator[None]:
    """Make ``run_dir`` (`make_dir`) and hold it for as long as the block runs (local disks: an
    exclusive ``flock`` on its `LOCK` file; object storage: nothing). Raises `StagingInUse` at
    once when another process holds it."""
    make_dir(run_dir)
    local = local_path(run_dir)
    if local is None or fcntl is None:
        yield
        return
    local = local.resolve()
    with _HELD_LOCK:
        nested = local in _HELD
        _HELD[local] = _HELD.get(local, 0) + 1
    fd = -1
    try:
        if not nested:
            fd = _lock(local)
        yield
    finally:
        with _HELD_LOCK:
            _HELD[local] -= 1
            if not _HELD[local]:
                del _HELD[local]
        if fd >= 0:
            os.close(fd)


def _lock(local: Path) -> int:
    fd = os.open(local / LOCK, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StagingInUse(
            f"staging {local} is in use by another process (an earlier try of this task still "
            "running?)"
        ) from None
    return fd


@dataclass
class Cleaned:
    """What one `clean_after_success` removed (run directories) and kept because held."""

    removed: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)


def clean_after_success(
    root: Any, connection_id_dir: str, entity_dir: str, run_dir: str, *, max_age: float,
    now: float | None = None,
) -> Cleaned:  # fmt: skip
    """After a run's last task for one connection and entity succeeded: remove its staging, the
    same connection and entity's other runs that no process holds, and anything under ``root``
    not held and unchanged for ``max_age`` seconds. Failures to remove are logged, not raised:
    the run's data is loaded."""
    cleaned = Cleaned()
    entity_path = root / connection_id_dir / entity_dir
    _remove(entity_path / run_dir, cleaned)
    for other in _children(entity_path):
        _remove_unheld(other, cleaned, require_lock=True)
    limit = (time.time() if now is None else now) - max_age
    for conn_dir in _children(root):
        for ent_dir in _children(conn_dir):
            for other in _children(ent_dir):
                if _newest_change(other) < limit:
                    _remove_unheld(other, cleaned, require_lock=False)
    _tighten(root, entity_path)
    if cleaned.removed:
        log.info("staging: removed %d run directories: %s", len(cleaned.removed), cleaned.removed)
    return cleaned


def _children(path: Any) -> list[Any]:
    try:
        return [p for p in path.iterdir() if p.is_dir()]
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:  # e.g. not ours: leave it, say so
        log.warning("staging: cannot list %s: %s", path, exc)
        return []


def _remove(path: Any, cleaned: Cleaned) -> None:
    local = local_path(path)
    try:
        if local is not None:
            if not local.exists():
                return
            shutil.rmtree(local)
        elif path.exists():
            path.rmdir(recursive=True)
        else:
            return
    except FileNotFoundError:  # a concurrent clean-up was first
        return
    except OSError as exc:
        log.warning("staging: cannot remove %s: %s", path, exc)
        return
    cleaned.removed.append(str(path))


def _remove_unheld(path: Any, cleaned: Cleaned, *, require_lock: bool) -> None:
    """Remove ``path`` unless a process holds its lock; without a lock file (object storage, an
    older version) only when ``require_lock`` is false. The lock is held while removing, so a
    retry of that run that starts now waits its turn (`StagingInUse`) rather than writing into a
    directory being removed."""
    local = local_path(path)
    if local is None or fcntl is None:
        if not require_lock:
            _remove(path, cleaned)
        return
    try:
        fd = os.open(local / LOCK, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        if not require_lock:
            _remove(path, cleaned)
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            cleaned.held.append(str(path))
            return
        _remove(path, cleaned)
    finally:
        os.close(fd)


def _newest_change(path: Any) -> float:
    """The newest modification time of a run directory and its files (+inf when unknown: kept)."""
    try:
        stamps = [path.stat().st_mtime]
        stamps += [p.stat().st_mtime for p in path.iterdir()]
        return max(float(s) for s in stamps)
    except FileNotFoundError:
        return float("inf")
    except Exception as exc:  # noqa: BLE001 - object storage without times: keep, say so
        log.warning("staging: no modification time for %s (%s): kept", path, exc)
        return float("inf")


def _tighten(root: Any, entity_path: Any) -> None:
    """Directories an older version made 0755: the root and this connection's and entity's."""
    local_root = local_path(root)
    local_entity = local_path(entity_path)
    if local_root is None or local_entity is None:
        return
    for directory in (local_root, local_entity.parent, local_entity):
        try:
            if directory.stat().st_mode & 0o777 != DIR_MODE:
                os.chmod(directory, DIR_MODE)
        except OSError:  # gone, or not ours
            continue
