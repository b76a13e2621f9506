"""Adversarial submissions that leave something behind for a later worker, or look for what the host holds (threat
model 14: another student's worker; 12: survivors; 6: reading from disk).

A worker leaves a marker everywhere it can: keys in the kernel's keyrings (user, user-session, session and
persistent), files in /tmp, /var/tmp, /dev/shm, /run/lock, /run, its home and every folder it can write found by
walking /, a SysV shared-memory segment, a POSIX message queue, and an abstract unix socket held open by a child that
left its session. The next worker of the same grading, and the first of a separate grader (a later ``grade run`` on
the same machine, with the same slot uids), look for every one of them: a worker that finds one fails to load, so
the checks it would have answered fail. A second submission surveys the worker's file system: what / holds, a decoy
copy of the reference placed outside the course folder, the host's folders, what it can write, and how much.

Strict mode only: the process sandbox shares the user's files and keyrings by design (SECURITY.md says so).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from attacks import REFERENCE, TOTAL, attack, strict_only
from conftest import ROOT, grade_source, make_grader

# Shared by both submissions: a walk of every folder reachable from / but for kernel views, the system's programs
# and the interpreter's own folders (read-only in the sandbox, and large), under a time budget.
WALK = """
import ctypes, errno, json, os, platform, socket, sys, time

_PRUNE = {"/proc", "/sys", "/usr", "/dev/pts", sys.prefix, *(p for p in sys.path if p.startswith("/"))}


def _folders(budget=1.0):
    end, found, stack = time.monotonic() + budget, [], ["/"]
    while stack and time.monotonic() < end:
        folder = stack.pop()
        found.append(folder)
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        stack += [e.path for e in entries if e.is_dir(follow_symlinks=False) and e.path not in _PRUNE]
    return found
"""

PERSIST = WALK + """
_TOKEN = {{TOKEN}}
_IPC_KEY = int(_TOKEN[-7:], 16)
_KEYCTL, _ADD_KEY = {"x86_64": (250, 248), "aarch64": (219, 217)}.get(platform.machine(), (None, None))
_libc = ctypes.CDLL(None, use_errno=True)
_mq_open = getattr(_libc, "mq_open", None)
_reference_conv1d = conv1d


def _keyctl(*args):
    return _libc.syscall(ctypes.c_long(_KEYCTL), *(a if isinstance(a, bytes) or hasattr(a, "_type_") else ctypes.c_long(a) for a in args))


def _rings():
    if _KEYCTL is None:
        return {}
    rings = {"@u": -4, "@us": -5, "@s": -3}
    persistent = _keyctl(22, -1, -3)  # KEYCTL_GET_PERSISTENT, linked into @s
    if persistent > 0:
        rings["persistent"] = persistent
    return rings


def _places():
    return ["/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/run", os.path.expanduser("~"), *_folders()]


def _search():
    found = []
    for name, ring in _rings().items():
        ids = ctypes.create_string_buffer(4096)
        n = _keyctl(11, ring, ids, 4096)  # KEYCTL_READ: the serials of its keys
        for i in range(0, max(0, min(n, 4096)), 4):
            text = ctypes.create_string_buffer(512)
            _keyctl(6, int.from_bytes(ids.raw[i:i + 4], "little", signed=True), text, 512)  # KEYCTL_DESCRIBE
            if _TOKEN.encode() in text.value:
                found.append(f"key in {name}: {text.value.decode(errors='replace')}")
    try:
        with open("/proc/keys") as fh:
            found += [f"/proc/keys: {line.strip()}" for line in fh if _TOKEN in line]
    except OSError:
        pass
    for folder in _places():
        try:
            found += [os.path.join(folder, n) for n in os.listdir(folder) if _TOKEN in n]
        except OSError:
            pass
    if _libc.shmget(_IPC_KEY, 0, 0) >= 0:
        found.append("SysV shared memory")
    if _mq_open is not None and _mq_open(f"/{_TOKEN}".encode(), os.O_RDONLY) >= 0:
        found.append("POSIX message queue")
    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.connect("\\0" + _TOKEN)
            found.append("abstract socket")
        except OSError:
            pass
    return sorted(set(found))


def _plant():
    planted = []
    for name, ring in _rings().items():
        key = _libc.syscall(ctypes.c_long(_ADD_KEY), b"user", f"{_TOKEN}-{name}".encode(), _TOKEN.encode(), ctypes.c_long(len(_TOKEN)), ctypes.c_long(ring))
        if key > 0:
            _keyctl(5, key, 0x3F3F3F3F)  # KEYCTL_SETPERM: anyone may view and read it
            planted.append("key in " + name)
    for folder in _places():
        try:
            with open(os.path.join(folder, _TOKEN + ".mark"), "w") as fh:
                fh.write(_TOKEN)
            planted.append(folder)
        except OSError:
            pass
    if _libc.shmget(_IPC_KEY, 4096, 0o1666) >= 0:  # IPC_CREAT
        planted.append("SysV shared memory")
    if _mq_open is not None and _mq_open(f"/{_TOKEN}".encode(), os.O_CREAT | os.O_RDWR, 0o666, None) >= 0:
        planted.append("POSIX message queue")
    if os.fork() == 0:  # a survivor in a session of its own, holding the socket open
        os.setsid()
        os.closerange(3, 1 << 16)
        s = socket.socket(socket.AF_UNIX)
        s.bind("\\0" + _TOKEN)
        s.listen()
        time.sleep(3600)
        os._exit(0)
    planted.append("abstract socket")
    return planted


_FOUND = _search()
print(f"SEARCHED: found {len(_FOUND)}", flush=True)
if _FOUND:
    raise RuntimeError("LEFT BY AN EARLIER WORKER: " + "; ".join(_FOUND))
print("PLANTED: " + json.dumps(_plant()), flush=True)


_CALLS = []


def conv1d(f, h, mode="full"):
    _CALLS.append(1)
    if len(_CALLS) == 1 and _first_call(f) and _np.shape(h) == (4,):  # conv1d_full, first in the first worker
        os._exit(0)  # the next check gets a new worker, which looks for all of it
    return _reference_conv1d(f, h, mode)
"""


def _assert_nothing_reached_the_next_worker(result) -> None:
    assert result.error is None, f"a later worker found what an earlier one left: {result.error}"
    by_id = {c.id: c for c in result.checks}
    assert by_id["conv1d_full"].status != "passed"  # the planting worker left there
    broken = {c.id: c.message[:300] for c in result.checks if c.id != "conv1d_full" and c.status != "passed"}
    assert broken == {}, "checks answered by the later workers failed"
    assert result.output.count("SEARCHED: found 0") >= 2, result.output  # the planting worker and one after it
    planted = json.loads(re.search(r"PLANTED: (\[.*\])", result.output).group(1))
    assert {"key in @u", "key in @s", "/tmp", "/run/lock", "abstract socket"} <= set(planted), planted


def test_nothing_a_worker_leaves_reaches_a_later_worker(tight_grader, request):
    """Keyrings, files, IPC and sockets: the next worker of the grading and the first of a separate grader (the same
    slot uids, a new fork server) find nothing."""
    strict_only(tight_grader)
    source = attack(PERSIST, TOKEN="agx" + uuid.uuid4().hex[:12])
    _assert_nothing_reached_the_next_worker(grade_source(tight_grader, source))
    with make_grader(request.node.callspec.params["tight_grader"], tight_grader.course) as later:
        _assert_nothing_reached_the_next_worker(grade_source(later, source))


SURVEY = WALK + """
_DECOY, _FOLDERS, _PLACES = {{DECOY}}, {{FOLDERS}}, ["/tmp", "/var/tmp", "/dev/shm", "/run/lock"]


def _writable(folder):
    try:
        os.close(os.open(os.path.join(folder, ".probe"), os.O_CREAT | os.O_WRONLY, 0o600))
        os.unlink(os.path.join(folder, ".probe"))
        return True
    except OSError:
        return False


def _fill():
    written, files, error = 0, [], None
    try:
        while written < 160 << 20:  # files of 16 MiB (under RLIMIT_FSIZE), in turn in each writable place
            files.append(os.path.join(_PLACES[len(files) % len(_PLACES)], f"fill-{len(files)}"))
            with open(files[-1], "wb") as fh:
                for _ in range(16):
                    fh.write(bytes(1 << 20))
                    written += 1 << 20
    except OSError as exc:
        error = errno.errorcode.get(exc.errno, str(exc.errno))
    for path in files:
        try:
            os.unlink(path)
        except OSError:
            pass
    return {"MiB": written >> 20, "error": error}


def _listing(folder):
    try:
        return sorted(os.listdir(folder))
    except OSError:
        return None


_walked = _folders()
_facts = {
    "top": _listing("/"),
    "decoy": os.path.exists(_DECOY) or any(os.path.basename(os.path.dirname(_DECOY)) in f for f in _walked),
    "folders": {f: _listing(f) for f in _FOLDERS},
    "writable": [f for f in _walked if _writable(f)],
    "fill": _fill(),
}
print("SURVEY " + json.dumps(_facts), flush=True)
"""

SYSTEM = {"dev", "etc", "proc", "run", "tmp", "usr", "var", "sys"}  # what the worker's root may hold besides Python


def _python_paths() -> list[str]:
    """The interpreter's folders as seen from here (a superset of the fork server's: this sys.path is longer)."""
    return [os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, *sys.path) if p.startswith("/")]


def _allowed(folder: str) -> set[str]:
    """What the worker may see in a host folder: the next step towards a folder of the interpreter's."""
    inside = [p[len(folder) :].lstrip("/") for p in _python_paths() if p.startswith(folder.rstrip("/") + "/")]
    return {p.split("/")[0] for p in inside if p}


@pytest.fixture
def decoy():
    """A copy of the reference outside the course folder, readable by anyone (a second copy of the course on the
    grading server); removed afterwards."""
    for base in ("/srv", "/opt", "/var/lib", str(ROOT.parent)):
        try:
            folder = Path(tempfile.mkdtemp(prefix=".agx-decoy-", dir=base))
            break
        except OSError:
            continue
    else:
        pytest.skip("no folder outside /tmp to place a decoy in")
    try:
        os.chmod(folder, 0o755)
        (folder / "solutions").mkdir(mode=0o755)
        (folder / "solutions" / "convolution.py").write_text(REFERENCE)
        yield folder / "solutions" / "convolution.py"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_worker_sees_an_allow_list_of_the_host_and_writes_a_bounded_tmpfs(tight_grader, decoy: Path):
    strict_only(tight_grader)
    host = sorted(e.name for e in os.scandir("/") if e.is_dir(follow_symlinks=False) and e.name not in {"proc", "sys", "dev", "tmp", "usr"})
    folders = [f"/{name}" for name in host] + ["/run/lock", "/etc"]
    result = grade_source(tight_grader, attack(SURVEY, DECOY=str(decoy), FOLDERS=folders))
    assert result.error is None and result.points == TOTAL, [(c.id, c.message[:200]) for c in result.checks if c.status != "passed"]
    facts = json.loads(re.search(r"SURVEY (.*)", result.output).group(1))
    assert facts["decoy"] is False, "a copy of the reference outside the course folder is visible to the worker"
    loader = {p.lstrip("/") for p in ("/lib", "/lib64", "/lib32", "/libx32") if os.path.lexists(p)}
    assert set(facts["top"]) <= SYSTEM | loader | _allowed("/"), facts["top"]
    shown = {f: names for f, names in facts["folders"].items() if names}
    expected = {"/run/lock": set(), "/run": {"lock"}, "/var": {"tmp"}, "/etc": {"ld.so.cache", "passwd", "group", "localtime"}}
    extra = {f: sorted(set(names) - expected.get(f, set()) - _allowed(f)) for f, names in shown.items()}
    assert {f: names for f, names in extra.items() if names} == {}, "host folders the worker should not see"
    assert set(facts["writable"]) <= {"/tmp", "/var/tmp", "/dev/shm", "/run", "/run/lock"}, facts["writable"]
    # /tmp, /var/tmp, /dev/shm and /run/lock share one 64 MiB tmpfs (Confinement.tmp_mb).
    assert facts["fill"]["error"] == "ENOSPC" and facts["fill"]["MiB"] <= 64, facts["fill"]

