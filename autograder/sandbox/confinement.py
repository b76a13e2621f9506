"""Confinement of worker processes: namespaces, an unprivileged uid, rlimits and a memory cgroup.

Modes:
- ``strict`` (Linux, root): the worker lives in new pid, mount, network and ipc namespaces, behind a tiny init
  process; its root is a fresh one that holds only what the interpreter needs (an allow-list, see rootfs.py); it
  runs as a per-slot unprivileged uid with no_new_privs, in a user namespace of its own (for keyrings of its own);
  killing the init kills every process it ever started.
  Without root, where the kernel lets users create user namespaces, the same namespaces are made inside a user
  namespace; the worker then moves into a nested user namespace of its own, so it holds no capability over its
  mounts (it cannot unmount or remount them) and, in any mount namespace it makes, they are locked. It runs as the
  user (no per-slot uid), with RLIMIT_NPROC counted over the user's processes, and no memory cgroup.
- ``process`` (anywhere else): a plain child process in its own session, with the rlimits the platform offers.
  The grader says in one line that isolation is reduced.

The functions here run in the fork server's children, before any student code, and never return errors silently:
a failure to confine is fatal for that worker (fail closed).
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Confinement", "MemoryCgroup", "strict_available", "user_processes", "STRICT", "PROCESS", "MODES", "ROOTLESS"]

STRICT, PROCESS = "strict", "process"
MODES = (STRICT, PROCESS, "auto")

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWUSER = 0x00020000, 0x08000000, 0x40000000, 0x20000000, 0x10000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER = 38, 36


@dataclass
class Confinement:
    """What one worker may do; sent as JSON from the grader to the fork server."""

    mode: str
    uid: int | None  # strict mode as root: the slot's unprivileged uid (the fork server drops it without root)
    cpu_s: float
    memory_mb: int
    hide: list[str] = field(default_factory=list)  # paths covered by empty mounts, should the worker's root hold them
    nofile: int = 256
    nproc: int = 64
    fsize_mb: int = 64
    tmp_mb: int = 64
    limit_address_space: bool = True  # off for CUDA, which reserves far more address space than it uses
    gpu: bool = False  # a CUDA worker: its root also holds /dev/nvidia*, /sys and the loader's configured folders
    user_processes: int = 0  # strict mode without root: the user's processes when the worker started (RLIMIT_NPROC)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@functools.cache
def _libc() -> ctypes.CDLL:
    """The C library, from the interpreter's own symbols (ctypes.util.find_library runs ldconfig, milliseconds a
    call, and finds nothing inside a worker's root)."""
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


# System calls that the C library does not wrap, by machine (aarch64 and riscv64 share the generic table).
_SYSCALLS = {"x86_64": {"pivot_root": 155, "keyctl": 250}, "aarch64": {"pivot_root": 41, "keyctl": 219}, "riscv64": {"pivot_root": 41, "keyctl": 219}}


def syscall_number(name: str) -> int | None:
    return _SYSCALLS.get(platform.machine(), {}).get(name)


ROOTLESS = "namespaces inside a user namespace: no per-slot uid, no memory cgroup"


def strict_available() -> tuple[bool, str]:
    """Whether this process can build strict workers, and if not, why (probed in a throwaway child)."""
    if not sys.platform.startswith("linux"):
        return False, f"namespaces need Linux (this is {sys.platform})"
    pid = os.fork()
    if pid == 0:
        try:
            enter_namespaces()
            os._exit(0)
        except BaseException:  # noqa: BLE001 - the exit status carries the answer
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        if os.geteuid() != 0:
            return False, "strict mode needs root, or user namespaces, which this kernel refuses to users"
        return False, "the kernel refused to create namespaces (unshare failed)"
    return True, "namespaces, per-slot uid, rlimits" if os.geteuid() == 0 else ROOTLESS


def user_processes() -> int:
    """How many processes this user has (what RLIMIT_NPROC counts), from /proc."""
    uid, count = os.getuid(), 0
    for entry in os.listdir("/proc"):
        try:
            count += entry.isdigit() and os.stat(f"/proc/{entry}").st_uid == uid
        except OSError:
            pass
    return count


class MemoryCgroup:
    """A per-worker memory cgroup (v2 or v1), where the hierarchy is writable; None elsewhere.

    The supervisor joins the group before forking, so every descendant of the worker is born in it, and returns to
    the cgroup it came from before removing the group.
    """

    V2, V1 = Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/memory")

    def __init__(self, path: Path, version: int):
        self.path, self.version = path, version
        self._home: Path | None = None

    @classmethod
    def available(cls) -> str | None:
        if (cls.V2 / "cgroup.controllers").is_file():
            controllers = (cls.V2 / "cgroup.controllers").read_text().split()
            return "v2" if "memory" in controllers and os.access(cls.V2, os.W_OK) else None
        if (cls.V1 / "memory.limit_in_bytes").is_file() and os.access(cls.V1, os.W_OK):
            return "v1"
        return None

    @staticmethod
    def name_for(supervisor: int) -> str:
        return f"w{supervisor}"

    @classmethod
    def members(cls, kind: str, supervisor: int) -> str:
        """The file that lists the processes of the group a supervisor makes (a group of ``kind``: v1 or v2)."""
        return str((cls.V2 if kind == "v2" else cls.V1) / "autograder" / cls.name_for(supervisor) / "cgroup.procs")

    @classmethod
    def create(cls, name: str, limit_bytes: int) -> MemoryCgroup | None:
        """A new group with the limit, or None where the hierarchy cannot delegate memory (rlimits remain)."""
        kind = cls.available()
        if kind is None:
            return None
        try:
            return cls._create(kind, name, limit_bytes)
        except OSError:
            return None

    @classmethod
    def _create(cls, kind: str, name: str, limit_bytes: int) -> MemoryCgroup:
        base = (cls.V2 if kind == "v2" else cls.V1) / "autograder"
        if kind == "v2":  # a group's children get the memory controller only if every ancestor hands it down
            if "memory" not in (cls.V2 / "cgroup.subtree_control").read_text().split():
                (cls.V2 / "cgroup.subtree_control").write_text("+memory")
            base.mkdir(exist_ok=True)
            if "memory" not in (base / "cgroup.subtree_control").read_text().split():
                (base / "cgroup.subtree_control").write_text("+memory")
        base.mkdir(exist_ok=True)
        group = cls(base / name, 2 if kind == "v2" else 1)
        group.path.mkdir(exist_ok=True)
        if group.version == 2:
            (group.path / "memory.max").write_text(str(limit_bytes))
            if (group.path / "memory.swap.max").exists():
                (group.path / "memory.swap.max").write_text("0")
        else:
            (group.path / "memory.limit_in_bytes").write_text(str(limit_bytes))
        return group

    def _current(self) -> Path:
        """The cgroup this process is in now, in the same hierarchy."""
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, where = line.split(":", 2)
            if (self.version == 2 and controllers == "") or (self.version == 1 and "memory" in controllers.split(",")):
                return (self.V2 if self.version == 2 else self.V1) / where.lstrip("/")
        raise OSError("this process is in no memory cgroup")

    def join(self) -> None:
        self._home = self._current()
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def hit_limit(self) -> bool:
        """Whether the kernel's OOM killer acted in this group."""
        try:
            if self.version == 2:
                events = dict(line.split() for line in (self.path / "memory.events").read_text().splitlines())
                return int(events.get("oom_kill", 0)) > 0
            control = dict(line.split() for line in (self.path / "memory.oom_control").read_text().splitlines())
            if "oom_kill" in control:
                return int(control["oom_kill"]) > 0
            return int((self.path / "memory.failcnt").read_text()) > 0
        except (OSError, ValueError):
            return False

    def remove(self) -> None:
        if self._home is not None:
            (self._home / "cgroup.procs").write_text(str(os.getpid()))
        try:
            self.path.rmdir()
        except OSError:
            pass  # a process still dying in it; the kernel frees the group when it is gone


def enter_namespaces() -> None:
    """Called in the supervisor: the next child it forks is pid 1 of a fresh pid namespace. Without root, the
    namespaces are made inside a new user namespace in which this user is root."""
    libc = _libc()
    if os.geteuid() == 0:
        _check(libc.unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID), "unshare")
    else:
        uid, gid = os.geteuid(), os.getegid()
        _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID), "unshare")
        for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    # Mounts made from here on stay inside this namespace.
    _check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make / private")


def _mount(source: bytes, target: str, fstype: bytes | None, flags: int, data: bytes | None) -> None:
    _check(_libc().mount(source, target.encode(), fstype, flags, data), f"mount {target}")


def drop_privileges(conf: Confinement) -> None:
    """Called in the worker itself, last thing before student code: uid, no_new_privs, rlimits, environment."""
    import resource

    if conf.uid is not None:
        os.setgroups([])
        os.setgid(conf.uid)
        os.setuid(conf.uid)
    if conf.mode == STRICT:
        fresh_keyrings(slot_uid=conf.uid is not None)
        # A user namespace of its own (its uid unmapped there: it shows as nobody): keyrings that go with it and,
        # without root, no capability over the namespaces built for it (it cannot unmount or remount its root's
        # mounts; those it copies into a namespace of its own are locked).
        _check(_libc().unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER): a user namespace of the worker's own")
    if sys.platform.startswith("linux"):
        _check(_libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")

    def limit(which: int, value: int) -> None:
        soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))

    cpu = int(conf.cpu_s) + 1
    limit(resource.RLIMIT_CPU, cpu)
    limit(resource.RLIMIT_FSIZE, conf.fsize_mb << 20)
    limit(resource.RLIMIT_NOFILE, conf.nofile)
    limit(resource.RLIMIT_CORE, 0)
    if conf.uid is not None:  # counted per uid: only meaningful when the slot's uid is ours alone
        limit(resource.RLIMIT_NPROC, conf.nproc)
    elif conf.mode == STRICT:  # without root, the user's own uid: that many more processes than the user had
        limit(resource.RLIMIT_NPROC, conf.user_processes + conf.nproc)
    if conf.limit_address_space and hasattr(resource, "RLIMIT_AS") and sys.platform.startswith("linux"):
        # torch is already mapped (several GiB of address space): allow that much plus the memory limit.
        limit(resource.RLIMIT_AS, _address_space() + (conf.memory_mb << 20))
    os.environ.clear()
    # USER/LOGNAME: libraries ask getpass.getuser(), and the slot's uid has no passwd entry.
    os.environ.update({"PATH": "/usr/bin:/bin", "HOME": os.getcwd(), "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "USER": "autograder", "LOGNAME": "autograder"})


KEYCTL_GET_KEYRING_ID, KEYCTL_JOIN_SESSION_KEYRING, KEYCTL_SETPERM, KEYCTL_CLEAR, KEYCTL_UNLINK, KEYCTL_GET_PERSISTENT = 0, 1, 5, 7, 9, 22
KEY_SPEC_SESSION_KEYRING, KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING = -3, -4, -5
KEY_POS_ALL = 0x3F000000


def fresh_keyrings(*, slot_uid: bool) -> None:
    """Called in a strict worker with its final uid, before it moves into its own user namespace.

    Keys are kernel objects that outlive processes and every namespace but the user one: a key that one worker links
    into its uid's user keyring (@u), user-session keyring (@us) or persistent keyring waits there for the next
    worker of that uid, in a later grading run too, and any uid it grants read permission reads it by its serial.
    The worker's user namespace gets a fresh register of those three (Linux >= 5.3), which goes with it; this joins
    a new anonymous session keyring (the inherited one is the fork server's and the grader's), and, for a slot uid,
    empties the host's three of that uid (a key an earlier version left there) and leaves the owner no permission
    on @u and @us (only a possessor has any: a process of that uid outside a worker's namespace; the persistent
    keyring never grants its owner write). A kernel without keys is left alone; an unknown machine fails closed.
    """
    number = syscall_number("keyctl")
    if number is None:
        if os.path.exists("/proc/keys"):
            raise OSError(f"keyctl: no system call number known for {platform.machine()}: keyrings cannot be made fresh")
        return
    libc = _libc()

    def keyctl(what: str, operation: int, *args: int, allowed: tuple[int, ...] = ()) -> int:
        result = libc.syscall(ctypes.c_long(number), ctypes.c_long(operation), *(ctypes.c_long(a) for a in args))
        if result < 0 and ctypes.get_errno() not in allowed:
            raise OSError(ctypes.get_errno(), f"keyctl {what}: {os.strerror(ctypes.get_errno())}")
        return result

    if keyctl("join a new session keyring", KEYCTL_JOIN_SESSION_KEYRING, 0, allowed=(errno.ENOSYS,)) < 0:
        if os.path.exists("/proc/keys"):
            raise OSError(errno.ENOSYS, "keyctl: keyrings exist but keyctl is missing")
        return  # a kernel without keys
    if not slot_uid:
        return
    for spec, name in ((KEY_SPEC_USER_KEYRING, "@u"), (KEY_SPEC_USER_SESSION_KEYRING, "@us")):  # special ids: possessed
        # ENOKEY, EACCES: the uid's user keyrings exist but this uid may not even search them; nor may anyone else.
        if keyctl(f"find {name}", KEYCTL_GET_KEYRING_ID, spec, 1, allowed=(errno.ENOKEY, errno.EACCES)) >= 0:
            keyctl(f"empty {name}", KEYCTL_CLEAR, spec)
            keyctl(f"close {name} to its owner", KEYCTL_SETPERM, spec, KEY_POS_ALL)
    persistent = keyctl("find the persistent keyring", KEYCTL_GET_PERSISTENT, -1, KEY_SPEC_SESSION_KEYRING, allowed=(errno.EOPNOTSUPP,))
    if persistent >= 0:  # linked into the new session keyring, which makes this process its possessor
        keyctl("empty the persistent keyring", KEYCTL_CLEAR, persistent)
        keyctl("unlink the persistent keyring", KEYCTL_UNLINK, persistent, KEY_SPEC_SESSION_KEYRING)


def _address_space() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def become_subreaper() -> None:
    """Process mode (no pid namespace): orphaned descendants of this process are reparented to it, not to init, so
    that it can find and kill them all (a double fork or setsid leaves the process group, not this ancestry)."""
    if sys.platform.startswith("linux"):
        _check(_libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(PR_SET_CHILD_SUBREAPER)")
