"""A strict worker's file system: a fresh root that holds what the interpreter needs, and nothing else of the host.

An allow-list, built by ``build_view`` in the namespace's init (root there) before the worker starts:

- read-only: each folder (or zip) on ``sys.path`` and the virtual environment, not a whole base prefix such as /usr;
  the folders the dynamic loader searches (/lib, /lib64, /usr/lib, /usr/lib64 and LD_LIBRARY_PATH's) and
  /etc/ld.so.cache; for a CUDA worker also the folders of ld.so.conf and /sys;
- the device nodes null, zero, full, random and urandom (for a CUDA worker also /dev/nvidia*), and a fresh /proc;
- writable: /tmp, /var/tmp, /dev/shm, /run and /run/lock, all in one tmpfs of ``tmp_mb`` MiB (a budget for them
  together, in memory that the worker's memory cgroup is charged for);
- a small /etc written here: passwd and group naming the worker (nobody: its uid is unmapped in its user
  namespace), and the host's time zone.

The symbolic links on the way to these are recreated as links (merged /usr: /lib -> usr/lib); the folders on the
way are 0755 (Python under /root is reachable, nothing else of /root exists). The init then moves into the new root
with pivot_root and detaches the old one, so nothing else of the host is reachable even by a process that later
gains capabilities in a user namespace of its own (after a chroot, the old root would be a few ``..`` away). The
paths of ``hide`` are still covered inside what is bound (a course installed in site-packages), and the root itself
is made read-only last.
"""

from __future__ import annotations

import ctypes
import errno
import glob
import os
import platform
import re
import sys

from .confinement import CLONE_NEWNS, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REC, Confinement, _check, _libc, _mount, syscall_number

__all__ = ["build_view"]

MS_REMOUNT, MNT_DETACH = 32, 2
_KEPT = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC  # a bind's own flags, repeated when it is remounted (locked in a user namespace)
_ASSEMBLY = "/tmp"  # where the new root is put together: the old /tmp, none of which the worker needs
_LOADER = ("/lib", "/lib64", "/usr/lib", "/usr/lib64")
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
_SCRATCH = {"tmp": 0o1777, "var-tmp": 0o1777, "shm": 0o1777, "run": 0o755, "run/lock": 0o1777}  # folders of the one tmpfs
_PLACES = {"tmp": "/tmp", "var-tmp": "/var/tmp", "shm": "/dev/shm", "run": "/run"}  # ... and where each appears


def build_view(conf: Confinement) -> None:
    """Called in the namespace's init (root there): build the new root, move into it, cover ``conf.hide``.

    The init first takes a mount namespace of its own: pivot_root moves every process of a namespace whose root is
    the old one, and the supervisor must keep the host's view (/sys, for the memory cgroup)."""
    _check(_libc().unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    mask = os.umask(0o022)
    try:
        _assemble(conf, _ASSEMBLY)
        _enter(_ASSEMBLY)
        for path in conf.hide:
            if os.path.isdir(path):
                _mount(b"tmpfs", path, b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, b"size=4k,mode=000")
            elif os.path.exists(path):
                _mount(b"/dev/null", path, None, MS_BIND, None)
        _remount("/", MS_RDONLY | MS_NOSUID | MS_NODEV)
    finally:
        os.umask(mask)


def _python_folders() -> list[str]:
    """The interpreter's own: each folder or zip on sys.path, and the virtual environment (scripts, pyvenv.cfg)."""
    paths = [p for p in sys.path if p.startswith("/") and os.path.exists(p)]
    return paths + ([sys.prefix] if sys.prefix != sys.base_prefix else [])


def _loader_config(path: str = "/etc/ld.so.conf", depth: int = 0) -> list[str]:
    """The folders ld.so.conf names (the loader's cache points into them: libcuda may live in one)."""
    try:
        with open(path) as f:
            lines = [line.split("#", 1)[0].strip() for line in f]
    except OSError:
        return []
    folders = []
    for line in lines:
        if line.startswith("include") and depth < 4:
            for pattern in line.split()[1:]:
                for included in sorted(glob.glob(os.path.join(os.path.dirname(path), pattern))):
                    folders += _loader_config(included, depth + 1)
        elif line.startswith("/"):
            folders.append(line)
    return folders


def _sources(conf: Confinement) -> tuple[list[str], list[str]]:
    """(bound read-only, bound as devices): the host paths the worker sees, those that exist."""
    read_only = [*_python_folders(), *_LOADER, "/etc/ld.so.cache"]
    read_only += [p for p in os.environ.get("LD_LIBRARY_PATH", "").split(":") if p.startswith("/")]
    devices = list(_DEVICES)
    if conf.gpu:  # the driver reads /sys and /proc/driver/nvidia, and opens /dev/nvidia*
        read_only += ["/sys", *_loader_config()]
        devices += sorted(glob.glob("/dev/nvidia*"))
    # Never the host's root itself (a sys.path or LD_LIBRARY_PATH entry "/"): that would be the whole host again.
    return [p for p in read_only if os.path.exists(p) and os.path.realpath(p) != "/"], [p for p in devices if os.path.exists(p)]


def _walk(path: str, links: dict[str, str], folders: set[str]) -> str:
    """The real path ``path`` leads to on the host. The folders on the way are added to ``folders`` and the
    symbolic links met, with their text, to ``links``: the new root gets the same ones."""
    pending = [p for p in reversed(path.split("/")) if p]
    current, hops = "/", 0
    while pending:
        part = pending.pop()
        if part == ".":
            continue
        if part == "..":
            current = os.path.dirname(current)  # ``current`` holds no link: going up is a string operation
            continue
        host = os.path.join(current, part)
        if os.path.islink(host):
            hops += 1
            if hops > 40:
                raise OSError(errno.ELOOP, f"{path}: too many symbolic links")
            links[host] = text = os.readlink(host)
            current = "/" if text.startswith("/") else current
            pending += [p for p in reversed(text.split("/")) if p]
            continue
        if pending:
            folders.add(host)
        current = host
    return current


def _assemble(conf: Confinement, root: str) -> None:
    """The new root, on a tmpfs mounted over ``root``; what is bound is held open first (it may lie below ``root``)."""
    links: dict[str, str] = {}
    folders: set[str] = set()
    read_only, devices = _sources(conf)
    targets = {_walk(p, links, folders): False for p in read_only}
    targets.update({_walk(p, links, folders): True for p in devices})
    # A folder inside another bound one comes with it; binding it again would hide nothing and cost a mount.
    targets = {t: dev for t, dev in targets.items() if not any(t.startswith(u.rstrip("/") + "/") for u in targets if u != t)}
    held = {t: os.open(t, os.O_PATH | os.O_CLOEXEC) for t in targets}
    try:
        localtime = _read("/etc/localtime")
        _mount(b"tmpfs", root, b"tmpfs", MS_NOSUID | MS_NODEV, b"size=1m,mode=0755")
        _scratch(root, conf.tmp_mb)  # first: what is bound below /tmp (a virtual environment there) goes on top
        for folder in sorted(folders | {"/etc", "/dev", "/proc"}):
            os.makedirs(root + folder, mode=0o755, exist_ok=True)
        for link, text in links.items():
            if not os.path.lexists(root + link):
                os.symlink(text, root + link)
        for target, device in sorted(targets.items()):
            if os.path.isdir(f"/proc/self/fd/{held[target]}"):
                os.makedirs(root + target, mode=0o755, exist_ok=True)
            elif not os.path.lexists(root + target):
                os.close(os.open(root + target, os.O_CREAT | os.O_WRONLY, 0o644))
            # Devices keep their nodes working (no nodev) but nothing runs from them; the rest is read-only.
            _bind(held[target], root + target, MS_NOSUID | MS_NOEXEC if device else MS_RDONLY | MS_NOSUID | MS_NODEV)
    finally:
        for fd in held.values():
            os.close(fd)
    _etc(root, localtime)
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        os.symlink(f"/proc/self/fd/{fd}", f"{root}/dev/{name}")
    os.symlink("/proc/self/fd", f"{root}/dev/fd")
    _mount(b"proc", f"{root}/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)


def _scratch(root: str, size_mb: int) -> None:
    """One tmpfs of ``size_mb`` for every writable place: its folders are bound into place, then it is let go."""
    scratch = f"{root}/.scratch"
    os.mkdir(scratch, 0o700)
    _mount(b"tmpfs", scratch, b"tmpfs", MS_NOSUID | MS_NODEV, f"size={size_mb}m,mode=0755".encode())
    for folder, mode in _SCRATCH.items():
        os.mkdir(f"{scratch}/{folder}")
        os.chmod(f"{scratch}/{folder}", mode)
    for folder, place in _PLACES.items():
        os.makedirs(root + place, mode=0o755, exist_ok=True)
        _mount(f"{scratch}/{folder}".encode(), root + place, None, MS_BIND, None)
    _check(_libc().umount2(scratch.encode(), MNT_DETACH), "umount the scratch tmpfs")
    os.rmdir(scratch)


def _etc(root: str, localtime: bytes | None) -> None:
    """passwd and group that name the worker, whose uid shows as nobody's in its user namespace; the time zone."""
    with open(f"{root}/etc/passwd", "w") as f:
        f.write("autograder:x:65534:65534:autograder:/tmp:/usr/sbin/nologin\n")
    with open(f"{root}/etc/group", "w") as f:
        f.write("autograder:x:65534:\n")
    if localtime is not None:
        with open(f"{root}/etc/localtime", "wb") as f:
            f.write(localtime)


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read(1 << 20)
    except OSError:
        return None


def _bind(fd: int, target: str, flags: int) -> None:
    """Bind what ``fd`` holds at ``target``, then remount it with ``flags`` added to its own.

    Without the mounts below it: in a user namespace that fails (EINVAL) when some are locked, and then they come
    along, each remounted the same way."""
    source = f"/proc/self/fd/{fd}".encode()
    below: list[str] = []
    if _libc().mount(source, target.encode(), None, MS_BIND, None) != 0:
        if ctypes.get_errno() != errno.EINVAL:
            _check(-1, f"bind {target}")
        _mount(source, target, None, MS_BIND | MS_REC, None)
        below = [p for p in _mount_points() if p.startswith(target + "/")]
    for point in [target, *below]:
        _remount(point, flags)


def _remount(target: str, flags: int) -> None:
    _mount(None, target, None, MS_REMOUNT | MS_BIND | (os.statvfs(target).f_flag & _KEPT) | flags, None)


def _mount_points() -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4]) for line in f]


def _enter(root: str) -> None:
    """pivot_root into ``root`` and detach the old root with everything mounted on it."""
    number = syscall_number("pivot_root")
    if number is None:
        raise OSError(f"pivot_root: no system call number known for {platform.machine()}")
    os.chdir(root)
    _check(_libc().syscall(number, b".", b"."), "pivot_root")
    _check(_libc().umount2(b".", MNT_DETACH), "detach the old root")
    os.chdir("/")
