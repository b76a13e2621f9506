"""Worker slots, leased machine-wide: a strict worker runs as the uid ``uid_base + slot``, and no two graders on one
machine (two batches, test processes, cluster workers on one node) may run workers under the same uid at once.

A uid's processes share RLIMIT_NPROC and its keyrings, so a uid shared by two graders' workers would let one student's
processes use up another's limit. Each slot's uid is leased with an exclusive ``flock`` on a lock file in a folder only
root can write (the uids exist only for a grader running as root); the kernel drops the lease when the grader exits,
however it exits. Without leasing (no per-slot uids) a slot is only a number within this grader.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

__all__ = ["Slots", "SlotLeaseError", "LEASES"]

LEASES = Path("/run/autograder-slots")
_MAX_SLOTS = 4096  # slots leased on one machine at once, by every grader there together


class SlotLeaseError(RuntimeError):
    """The machine-wide leases cannot be taken: their folder is unusable, or every slot is leased."""


class Slots:
    """Slot numbers for one grader's workers; ``leases``: the folder of lock files (None: no machine-wide lease)."""

    def __init__(self, *, uid_base: int, leases: Path | None):
        self.uid_base = uid_base
        self._leases = _private_folder(leases) if leases is not None else None
        self._held: dict[int, int | None] = {}  # slot -> its lock file's descriptor
        self._lock = threading.Lock()

    def take(self) -> int:
        """The lowest slot free here and, when leasing, on the whole machine."""
        with self._lock:
            for slot in range(_MAX_SLOTS):
                if slot in self._held:
                    continue
                fd = self._lease(slot) if self._leases is not None else None
                if self._leases is None or fd is not None:
                    self._held[slot] = fd
                    return slot
        raise SlotLeaseError(f"no free worker slot: uids {self.uid_base}..{self.uid_base + _MAX_SLOTS - 1} are all leased by graders on this machine (lock files in {self._leases})")

    def release(self, slot: int) -> None:
        with self._lock:
            fd = self._held.pop(slot, None)
        if fd is not None:
            os.close(fd)  # closing the only descriptor drops the flock

    def _lease(self, slot: int) -> int | None:
        import fcntl  # POSIX only; leasing is for strict mode (Linux, root), and the grader runs on Windows too

        assert self._leases is not None
        path = self._leases / f"uid-{self.uid_base + slot}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd


def _private_folder(folder: Path) -> Path:
    """``folder``, created if need be; refused unless it is a real folder of root's that no one else may write."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(folder)
    except OSError as exc:
        raise SlotLeaseError(f"{folder}: the worker slots' lock folder cannot be made ({exc.strerror}); strict mode as root leases each worker's uid there") from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o022:
        raise SlotLeaseError(f"{folder}: the worker slots' lock folder must be a folder owned by root that only root can write (mode {stat.filemode(info.st_mode)}, owner uid {info.st_uid}); remove it and grade again")
    return folder
