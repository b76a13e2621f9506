"""Adversarial submissions that reach for what they must not see (threat model 6, 13).

Importing the reference solution or the hidden checks by name, loading them (or a near copy) from disk by path,
hunting for the course secret in the environment and /proc, and talking to the network, loopback included: the
attack earns nothing, and nothing secret reaches the student. Reading files, the network and other processes
can only be stopped by the strict sandbox: those tests skip the process mode. See attacks.py for the assertions.
"""

from __future__ import annotations

import re
import select
import socket
import uuid

from attacks import HIDDEN_LINE, REFERENCE_LINE, SECRET, Attack, assert_defeated, attack, strict_only, table
from conftest import ROOT, grade_source


# ---- 6: the reference solution, hidden checks and the course secret ------------------------------------------

IMPORTS = {
    "import_solutions_convolution": Attack(
        """
        def conv1d(f, h, mode="full"):
            import solutions.convolution as ref
            return ref.conv1d(f, h, mode)
        """,
        phrase=r"No module named 'solutions",
        recover=True,
    ),
    "from_solutions_import_convolution": Attack(
        """
        def conv1d(f, h, mode="full"):
            from solutions import convolution as ref
            return ref.conv1d(f, h, mode)
        """,
        phrase=r"No module named 'solutions",
    ),
    "import_checks_hidden": Attack(
        """
        def conv1d(f, h, mode="full"):
            import checks.hidden.convolution as hidden
            return hidden.judge_conv1d
        """,
        phrase=r"No module named 'checks",
    ),
}


@table(IMPORTS)
def test_importing_the_reference_by_name_fails(tight_grader, row: Attack):
    row.run(tight_grader)


# The course root's absolute path, known to a student who saw it in a traceback or a course handout.
STOLEN_IMPORTS = {
    "importlib_with_the_absolute_path": Attack(
        """
        import importlib.util

        def conv1d(f, h, mode="full"):
            spec = importlib.util.spec_from_file_location("stolen", {{ROOT}} + "/solutions/convolution.py")
            ref = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(ref)
            return ref.conv1d(f, h, mode)
        """,
        phrase=r"PermissionError|FileNotFoundError|No such file",
        values={"ROOT": str(ROOT)},
    ),
    "course_root_on_sys_path": Attack(
        """
        import sys
        sys.path.insert(0, {{ROOT}})

        def conv1d(f, h, mode="full"):
            import solutions.convolution as ref
            return ref.conv1d(f, h, mode)
        """,
        phrase=r"No module named 'solutions",
        values={"ROOT": str(ROOT)},
    ),
    "exec_of_the_file_read_from_disk": Attack(
        """
        def conv1d(f, h, mode="full"):
            scope = {"__name__": "stolen"}
            with open({{ROOT}} + "/solutions/convolution.py") as fh:
                exec(fh.read(), scope)
            return scope["conv1d"](f, h, mode)
        """,
        phrase=r"PermissionError|FileNotFoundError|No such file",
        values={"ROOT": str(ROOT)},
    ),
    "compiled_reference_in_pycache": Attack(
        """
        import glob, importlib.util

        def conv1d(f, h, mode="full"):
            for path in glob.glob({{ROOT}} + "/solutions/__pycache__/convolution*.pyc"):
                spec = importlib.util.spec_from_file_location("stolen", path)
                ref = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(ref)
                return ref.conv1d(f, h, mode)
            raise FileNotFoundError("no compiled reference in sight")
        """,
        phrase=r"FileNotFoundError|PermissionError",
        values={"ROOT": str(ROOT)},
    ),
}


@table(STOLEN_IMPORTS)
def test_loading_the_reference_from_disk_fails_in_strict_mode(tight_grader, row: Attack):
    strict_only(tight_grader)
    row.run(tight_grader)


# The course folder holds more than solutions/: the example submission has a correct xcorr1d, and
# conv1d(f, h) == xcorr1d(f, h[::-1]). Strict workers must not see any of the course folder.
NEAR_COPY = """
def conv1d(f, h, mode="full"):
    scope = {"__name__": "stolen"}
    with open({{PATH}}) as fh:
        exec(fh.read(), scope)
    return scope["xcorr1d"](f, _np.asarray(h)[::-1], mode)
"""


def test_near_copies_of_the_reference_are_out_of_sight_in_strict_mode(tight_grader):
    strict_only(tight_grader)
    path = ROOT / "examples" / "submission" / "convolution.py"
    assert path.is_file()
    result = grade_source(tight_grader, attack(NEAR_COPY, PATH=str(path)))
    assert_defeated(result, phrase=r"PermissionError|FileNotFoundError|No such file")


UNMOUNT = """
import ctypes, os

_libc = ctypes.CDLL(None, use_errno=True)
_TRIED = []


def _unmount_and_read(tag):
    for path in ({{ROOT}} + "/solutions", {{ROOT}}):
        done = _libc.umount2(path.encode(), 2)  # MNT_DETACH
        _TRIED.append(f"{tag}: umount {path}: " + ("done" if done == 0 else os.strerror(ctypes.get_errno())))
    try:
        with open({{ROOT}} + "/solutions/convolution.py") as fh:
            return fh.read()
    except OSError as exc:
        _TRIED.append(f"{tag}: read: {type(exc).__name__}")


_STOLEN = _unmount_and_read("as it is")
if _STOLEN is None:  # a user and mount namespace of its own, where it is root: the mounts it copies are locked
    if _libc.unshare(0x10000000 | 0x00020000) == 0:
        _STOLEN = _unmount_and_read("in its own namespaces")
    else:
        _TRIED.append("unshare: " + os.strerror(ctypes.get_errno()))
print("\\n".join(_TRIED), flush=True)


def conv1d(f, h, mode="full"):
    if _STOLEN:
        print(_STOLEN, flush=True)
        space = {}
        exec(_STOLEN, space)
        return space["conv1d"](f, h, mode)
    return _wrong(f, h, mode)
"""


def test_unmounting_what_hides_the_reference_fails_in_strict_mode(tight_grader):
    """The covers over solutions/ cannot be unmounted by the worker, nor from a user namespace it makes itself."""
    strict_only(tight_grader)
    result = grade_source(tight_grader, attack(UNMOUNT, ROOT=str(ROOT)))
    assert_defeated(result, phrase=r"are off")
    assert "umount" in result.output and ": done" not in result.output, result.output
    assert REFERENCE_LINE not in result.output


SECRET_HUNT = """
import glob, os, sys

STOLEN = []


def _read(path):
    try:
        with open(path, "rb") as fh:
            return fh.read(1 << 20).decode(errors="replace")
    except OSError as exc:
        return f"<{type(exc).__name__}>"


def _hunt():
    STOLEN.append("ENVIRON " + repr(dict(os.environ)))
    for path in ({{ROOT}} + "/solutions/convolution.py", {{ROOT}} + "/checks/hidden/convolution.py", {{ROOT}} + "/.git/HEAD"):
        STOLEN.append(f"FILE {path}: " + _read(path))
    for path in glob.glob({{ROOT}} + "/checks/hidden/**", recursive=True) + glob.glob({{ROOT}} + "/solutions/**", recursive=True):
        if os.path.isfile(path) and os.access(path, os.R_OK):
            STOLEN.append(f"FOUND {path}")
    STOLEN.append(f"PPID {os.getppid()} " + _read(f"/proc/{os.getppid()}/environ").replace("\\0", " "))
    pids = glob.glob("/proc/[0-9]*")
    STOLEN.append(f"VISIBLE-PIDS {len(pids)}")
    for pid in pids:
        STOLEN.append(f"CMDLINE {pid} " + _read(pid + "/cmdline").replace("\\0", " "))
        STOLEN.append(f"ENV {pid} " + _read(pid + "/environ").replace("\\0", " "))
    print("SECRET-HUNT-RAN", flush=True)
    print("\\n".join(STOLEN), flush=True)


_hunt()


def conv1d(f, h, mode="full"):
    _hunt()
    raise RuntimeError("\\n".join(STOLEN)[-3500:])  # tracebacks are shown to the student: another way out
"""


def test_no_secret_hidden_check_or_reference_reaches_the_student(tight_grader):
    strict_only(tight_grader)
    result = grade_source(tight_grader, attack(SECRET_HUNT, ROOT=str(ROOT)))
    assert_defeated(result, phrase=r"raised RuntimeError")
    assert "SECRET-HUNT-RAN" in result.output  # the attack did run
    visible = re.search(r"VISIBLE-PIDS (\d+)", result.output)
    assert visible and int(visible.group(1)) <= 4, "a strict worker sees processes outside its pid namespace"
    shown = [result.output, result.error or ""] + [c.message for c in result.checks]
    for leak in (SECRET, HIDDEN_LINE, REFERENCE_LINE, "FOUND "):
        assert not any(leak in text for text in shown), f"{leak!r} reached the student"



# ---- 13: the network --------------------------------------------------------------------------------------------

NETWORK = """
import socket


def conv1d(f, h, mode="full"):
    for family, address in ((socket.AF_INET, ("127.0.0.1", {{PORT}})), (socket.AF_UNIX, {{ABSTRACT}})):
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(0.5)
                s.connect(address)
                s.sendall(b"STOLEN " + repr(f.tolist()).encode())
                print("NET CONNECTED", address, flush=True)
        except OSError as exc:
            print("NET REFUSED", address, type(exc).__name__, flush=True)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"STOLEN", ("127.0.0.1", {{PORT}}))
    except OSError as exc:
        print("NET REFUSED udp", type(exc).__name__, flush=True)
    return _wrong(f, h, mode)
"""


def test_no_network_not_even_loopback(tight_grader):
    strict_only(tight_grader)
    mark = uuid.uuid4().hex
    with socket.create_server(("127.0.0.1", 0)) as tcp, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        port = tcp.getsockname()[1]
        abstract = "\0autograder-adversarial-" + mark
        unix.bind(abstract)
        unix.listen()
        udp.bind(("127.0.0.1", port))
        result = Attack(NETWORK, phrase=r"are off", values={"PORT": port, "ABSTRACT": abstract}, recover=True).run(tight_grader)
        assert "NET REFUSED" in result.output and "NET CONNECTED" not in result.output
        ready, _, _ = select.select([tcp, unix, udp], [], [], 0.2)
        assert ready == [], "a worker reached a listener on the grading machine"
