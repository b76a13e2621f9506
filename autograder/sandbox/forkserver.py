"""The fork server ("zygote"): a process that has imported numpy and torch once and forks a worker per request.

A fresh interpreter pays seconds for ``import torch``; a fork of this process pays tens of milliseconds. The server
is started with a scrubbed environment and never sees the reference solution, hidden checks or any result, so a
worker inherits nothing worth stealing. It never runs a torch operation (a forked child of a process whose OpenMP
pool is running can deadlock) and never touches CUDA (a forked child cannot re-initialise it).

Process tree of one strict worker::

    fork server -> supervisor (root, our code) -> init (pid 1 of a new pid namespace, root) -> worker (slot uid)

The init builds the worker's root, an allow-list of the host (rootfs.py), in a mount namespace of its own and
pivots into it; the supervisor keeps the host's view. Without root, the supervisor makes the namespaces inside a
user namespace (where it is root), and the worker moves into a nested one of its own before running student code
(it runs as the user; see confinement.py).

The supervisor waits on the init and on a control socket from the grader; "kill", or the grader going away, kills
the init and with it every process in the namespace, setsid escapees included. It then reports how the worker ended.
"dump" sends the worker SIGUSR1 (through the init, in strict mode), on which it writes its Python stacks to the grader.
A failure to confine travels to the supervisor through a pipe whose last write end the worker closes before it runs
student code, and on to the grader in that report: nothing a submission writes can pass for a sandbox failure.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import traceback
from typing import Any

from .confinement import STRICT, Confinement, MemoryCgroup, become_subreaper, drop_privileges, enter_namespaces, strict_available, user_processes
from .rootfs import build_view

__all__ = ["ForkServer"]

_BOOT = "import sys; from autograder.sandbox.forkserver import _serve; _serve(int(sys.argv[1]), sys.argv[2:])"


# ---- inside the fork server ------------------------------------------------------------------------------------


def _serve(fd: int, unsafe_paths: list[str]) -> None:
    # The course folder must not be importable from a worker (it holds solutions/); the package is imported already.
    from . import worker  # noqa: F401 - preloaded for the children

    sys.path[:] = [p for p in sys.path if p not in ("", ".") and os.path.abspath(p) not in unsafe_paths]
    import numpy  # noqa: F401
    import torch  # noqa: F401
    import torch.nn.functional  # noqa: F401

    try:  # pure imports (sympy): the first backward of many ops imports them lazily, 0.3 s in every worker otherwise
        import torch.fx.experimental.symbolic_shapes  # noqa: F401
    except ImportError:
        pass

    sock = socket.socket(fileno=fd)
    strict, why = strict_available()
    hello = {"strict": strict, "why": why, "cgroup": MemoryCgroup.available() if os.geteuid() == 0 else None}
    sock.send(json.dumps(hello).encode())
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped by the kernel
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 1 << 16, 3)
        except OSError:
            return
        if not msg:
            return
        request = json.loads(msg)
        pid = os.fork()
        if pid == 0:
            status = 70
            try:
                sock.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                _supervise(request, *fds)
                status = 0
            finally:
                os._exit(status)
        for child_fd in fds:
            os.close(child_fd)
        sock.send(json.dumps({"pid": pid}).encode())


def _setup_failed(setup_fd: int, exc: BaseException) -> None:
    """Tell the supervisor that confinement could not be set up (fail closed); it reports it to the grader."""
    try:
        os.write(setup_fd, f"{type(exc).__name__}: {exc}".encode(errors="replace")[:_SETUP_CAP])
    except OSError:
        pass


_SETUP_CAP = 4000  # bytes of a setup failure's description


def _report(ctl: socket.socket, report: dict[str, Any]) -> None:
    try:
        ctl.sendall(json.dumps(report).encode() + b"\n")
    except OSError:
        pass


def _supervise(request: dict[str, Any], proto_fd: int, out_fd: int, ctl_fd: int) -> None:
    conf = Confinement(**request["confinement"])
    ctl = socket.socket(fileno=ctl_fd)
    group = None
    setup_read, setup_fd = os.pipe()
    try:
        group = MemoryCgroup.create(MemoryCgroup.name_for(os.getpid()), conf.memory_mb << 20) if os.geteuid() == 0 else None
        if group is not None:
            group.join()  # before forking: every descendant is born inside the group
            conf.limit_address_space = False  # the cgroup limits real memory; an address-space cap only breaks CUDA
        if conf.mode == STRICT and os.geteuid() != 0:  # no slot uids without root: the worker runs as this user
            conf.uid, conf.user_processes = None, user_processes()
        if conf.mode == STRICT:
            enter_namespaces()
        else:  # no pid namespace: descendants that escape the session (double fork, setsid) are reparented to us
            become_subreaper()
    except Exception as exc:  # noqa: BLE001 - reported to the grader
        _report(ctl, {"exit_code": None, "signal": None, "killed": False, "memory_limit": False, "sandbox_error": f"{type(exc).__name__}: {exc}"})
        if group is not None:
            group.remove()
        return
    child = os.fork()
    if child == 0:
        ctl.close()
        os.close(setup_read)
        code = 71
        try:
            if conf.mode == STRICT:
                code = _init(conf, request, proto_fd, out_fd, setup_fd)
            else:
                os.setsid()
                _work(conf, request, proto_fd, out_fd, setup_fd, workdir=None)
        finally:
            os._exit(code)
    os.close(proto_fd)
    os.close(out_fd)
    os.close(setup_fd)
    killed = _wait(child, ctl)
    _, status = os.waitpid(child, 0)
    if conf.mode != STRICT:  # no pid namespace to take stragglers down with it
        _kill_group(child, group)
    report = _describe(status, strict=conf.mode == STRICT)
    os.set_blocking(setup_read, False)  # every write end is closed by now; a worker that set up wrote nothing
    try:
        failure = os.read(setup_read, _SETUP_CAP).decode(errors="replace")
    except BlockingIOError:
        failure = ""
    os.close(setup_read)
    report.update(killed=killed, memory_limit=bool(group and group.hit_limit()), sandbox_error=failure or None)
    _report(ctl, report)
    if group is not None:
        group.remove()


def _wait(child: int, ctl: socket.socket) -> bool:
    """Block until the child exits; kill it when the grader says so or goes away. Returns whether it was killed."""
    pidfd = os.pidfd_open(child) if hasattr(os, "pidfd_open") else None
    killed = False
    while True:
        ready, _, _ = select.select([ctl] + ([pidfd] if pidfd is not None else []), [], [], None if pidfd else 0.05)
        if ctl in ready and not killed:
            data = ctl.recv(64)
            if not data or b"kill" in data:
                os.kill(child, signal.SIGKILL)
                killed = True
            elif b"dump" in data:
                os.kill(child, signal.SIGUSR1)
        if pidfd is not None and pidfd in ready:
            os.close(pidfd)
            return killed
        if pidfd is None and os.waitid(os.P_PID, child, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            return killed


def _kill_group(child: int, group: MemoryCgroup | None) -> None:
    """Process mode: kill what the worker left, before the grader hears that it ended (and so before any report is
    written): its process group, every descendant reparented to this subreaper, and what is left in its cgroup."""
    try:
        os.killpg(child, signal.SIGKILL)
    except OSError:
        pass
    _kill_adopted()
    for _ in range(50):  # setsid escapees left the process group, but not the cgroup
        pids = [p for p in (group.pids() if group else []) if p != os.getpid()]
        if not pids:
            return
        _kill_all(pids)
        select.select([], [], [], 0.01)


def _kill_all(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass  # gone already


def _kill_adopted() -> None:
    """Kill and reap every child of this process until none is left: orphans of the worker come to us (subreaper),
    and each one killed hands its own children to us in turn."""
    me = str(os.getpid())
    while True:
        children = []
        for entry in os.listdir("/proc"):
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    stat = f.read().decode(errors="replace")
            except OSError:
                continue
            if entry.isdigit() and stat[stat.rfind(")") + 2 :].split()[1] == me:  # the field after the state: ppid
                children.append(int(entry))
        if not children:
            return
        _kill_all(children)
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def _describe(status: int, *, strict: bool) -> dict[str, Any]:
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        return {"exit_code": None, "signal": -code}
    if strict and code >= 128:  # the init reports the worker's death by signal as 128 + signal
        return {"exit_code": None, "signal": code - 128}
    return {"exit_code": code, "signal": None}


def _init(conf: Confinement, request: dict[str, Any], proto_fd: int, out_fd: int, setup_fd: int) -> int:
    """pid 1 of the namespace: set up the view, start the worker, reap everything, exit with the worker's status."""
    try:
        build_view(conf)
    except Exception as exc:  # noqa: BLE001 - reported to the grader
        _setup_failed(setup_fd, exc)
        return 72
    worker = os.fork()
    if worker == 0:
        code = 71
        try:
            _work(conf, request, proto_fd, out_fd, setup_fd, workdir="/tmp")
        finally:
            os._exit(code)
    # The supervisor's "dump" for the worker; a pid namespace's init hears only the signals it has a handler for.
    signal.signal(signal.SIGUSR1, lambda *_: _signal(worker, signal.SIGUSR1))
    os.close(proto_fd)
    os.close(out_fd)
    os.close(setup_fd)
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == worker:
            code = os.waitstatus_to_exitcode(status)
            return 128 - code if code < 0 else min(code, 127)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except OSError:
        pass  # gone already


def _work(conf: Confinement, request: dict[str, Any], proto_fd: int, out_fd: int, setup_fd: int, workdir: str | None) -> None:
    import tempfile

    from .worker import serve

    signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # a "dump" before serve() offers stacks is not a reason to die
    try:
        os.chdir(workdir or tempfile.mkdtemp(prefix="autograder-worker-"))
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        low, high = sorted((proto_fd, setup_fd))
        os.closerange(3, low)
        os.closerange(low + 1, high)
        os.closerange(high + 1, 1 << 16)
        drop_privileges(conf)
    except Exception as exc:  # noqa: BLE001 - reported to the grader
        _setup_failed(setup_fd, exc)
        os._exit(72)
    os.close(setup_fd)  # before student code: from here on nothing can report a setup failure
    # A CPU worker must not initialise CUDA (under its address-space limit the driver fails noisily); a CUDA worker
    # needs cuBLAS's workspace setting for deterministic results, before CUDA starts.
    os.environ.update({"CUDA_VISIBLE_DEVICES": ""} if request["device"] == "cpu" else {"CUBLAS_WORKSPACE_CONFIG": ":4096:8"})
    proto = socket.socket(fileno=proto_fd)
    try:
        serve(proto.makefile("rb"), proto.makefile("wb"), device=request["device"], threads=request["threads"])
    except BaseException:  # a fault of the worker's own code: leave its trace in the output the grader collects
        traceback.print_exc()
        sys.stderr.flush()
        raise
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # no atexit hooks, no waiting for the student's threads


# ---- in the grading process ------------------------------------------------------------------------------------


def command(fd: int, unsafe_paths: list[str]) -> list[str]:
    """The fork server's command line (tests start it as another user through this)."""
    return [sys.executable, "-c", _BOOT, str(fd), *unsafe_paths]


class ForkServer:
    """Client of one fork server process. Thread-safe: batch grading spawns from several threads. A server that
    died (killed from outside, out of memory) is started again once per spawn, so a batch goes on."""

    def __init__(self, *, unsafe_paths: list[str], secret_env: str):
        self._unsafe_paths, self._secret_env = unsafe_paths, secret_env
        self._lock = threading.Lock()
        self._start()

    def _start(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {k: v for k, v in os.environ.items() if k != self._secret_env and not k.startswith("AUTOGRADER_")}
        self._proc = subprocess.Popen(
            command(child.fileno(), self._unsafe_paths),
            pass_fds=(child.fileno(),),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        child.close()
        self._sock = parent
        self._hello: dict[str, Any] | None = None

    def hello(self) -> dict[str, Any]:
        """What the server can do (strict mode, cgroups); waits for its imports to finish."""
        with self._lock:
            if self._hello is None:
                data = self._sock.recv(1 << 16)
                if not data:
                    err = self._proc.stderr.read().decode(errors="replace")[-2000:] if self._proc.stderr else ""
                    raise RuntimeError(f"the fork server failed to start:\n{err}")
                self._hello = json.loads(data)
            return self._hello

    def spawn(self, *, confinement: Confinement, device: str, threads: int) -> tuple[int, socket.socket, int, socket.socket]:
        """Start a worker; returns (supervisor pid, protocol socket, output pipe read end, control socket)."""
        request = json.dumps({"confinement": confinement.to_json(), "device": device, "threads": threads}).encode()
        for attempt in range(2):
            self.hello()
            server = self._proc
            proto_parent, proto_child = socket.socketpair()
            ctl_parent, ctl_child = socket.socketpair()
            out_read, out_write = os.pipe()
            try:
                with self._lock:
                    socket.send_fds(self._sock, [request], [proto_child.fileno(), out_write, ctl_child.fileno()])
                    reply = self._sock.recv(1 << 16)
            except OSError:
                reply = b""
            finally:
                proto_child.close()
                ctl_child.close()
                os.close(out_write)
            if reply:
                return json.loads(reply)["pid"], proto_parent, out_read, ctl_parent
            proto_parent.close()
            ctl_parent.close()
            os.close(out_read)
            if attempt:
                break
            try:
                server.wait(timeout=5)
            except subprocess.TimeoutExpired:  # alive, yet it hung up: not something a restart mends
                break
            with self._lock:
                if self._proc is server:  # another thread may have started the new one already
                    self._sock.close()
                    self._start()
        raise RuntimeError("the fork server went away and could not be started again")

    def close(self) -> None:
        self._sock.close()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
