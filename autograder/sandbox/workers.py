"""The grading process's side of a worker: start one, talk to it under a time budget, kill it, say how it ended.

Workers come from the fork server (Linux) or, where there is none, from a fresh interpreter that connects back over
a loopback socket (macOS, Windows: slower to start, reduced isolation). Either way the grader holds a stream socket
for the protocol and a pipe that collects the worker's stdout and stderr, of which it keeps only the first few KiB.

Time is judged by a :class:`Clock` per check, from what the worker's processes did (cputime.py), never from how busy
the machine is: a check that used its CPU seconds ran out of time; one that spent its wall-clock seconds neither
computing nor waiting for a CPU slept or blocked; one that spent :data:`STARVED_AFTER` times those waiting for a CPU
was starved, which is the machine's doing, not the submission's (the engine runs it again, then reports the grader).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .confinement import ROOTLESS, STRICT, Confinement, MemoryCgroup
from .cputime import Meter, Usage, own_waiting
from .exchange import ExchangeError, encode, read_frame
from .forkserver import ForkServer
from .locations import CELL_ID, stacks_in
from .slots import LEASES, Slots

__all__ = ["Worker", "WorkerDied", "WorkerTimeout", "Clock", "Spawner", "describe_mode", "CPU", "BLOCKED", "STARVED", "STARVED_AFTER", "SETUP_S"]

CPU, BLOCKED, STARVED = "cpu", "blocked", "starved"  # why a clock ran out (WorkerTimeout.kind)
STARVED_AFTER = 10  # a check that took this many times its cpu_s + wall_s in all was starved of CPU
SETUP_S = 30.0  # both budgets of a new worker's confinement, before it serves (the sandbox's time, not the submission's)
_EXIT_GRACE_S = 5.0  # a worker that hung up gets this long to exit by itself (its exit status is then its own)
_POLL_S = 0.1  # how often a clock reads its worker's usage while it waits (the most CPU time spent past a budget)
_DUMP_WAIT_S = 0.2  # how long a worker out of time gets to send its stacks before it is stopped
_DUMP_QUIET_S = 0.05  # a dump comes at once, in small writes: this long without more is its end
_DUMP_CAP = 64 << 10  # bytes of a dump read


class WorkerDied(Exception):
    """The worker is gone (exited, crashed, killed, or sent something that is not a frame); ``str`` says how."""


class WorkerTimeout(WorkerDied):
    """A :class:`Clock` ran out (``kind``: CPU, BLOCKED or STARVED) and the worker was stopped; ``used`` is what the
    check's processes spent, ``elapsed`` the wall-clock seconds it waited for them."""

    def __init__(self, kind: str, used: Usage, elapsed: float):
        super().__init__(f"ran out of time ({kind}) and was stopped")
        self.kind, self.used, self.elapsed = kind, used, elapsed
        # The worker's Python stacks when it was stopped (Worker.request asks for them), each thread's most recent
        # call first: (file, line, function) as the worker's dump said, a hint the submission can forge or withhold.
        self.stacks: tuple[tuple[tuple[str, int, str], ...], ...] = ()


class Clock:
    """One check's time on one worker, across its requests: ``cpu_s`` CPU seconds (what the check may compute) and
    ``wall_s`` wall-clock seconds of a request spent neither computing nor waiting for a CPU (a worker that sleeps or
    blocks), within STARVED_AFTER * (``cpu_s`` + ``wall_s``) in all: past that the worker spent most of it waiting
    for a CPU, so it was starved."""

    def __init__(self, worker: Worker, *, cpu_s: float, wall_s: float):
        self.worker, self.cpu_s, self.wall_s = worker, cpu_s, wall_s
        self.start = worker.usage  # as the previous check left it: what the worker did in between is this check's
        self.elapsed = 0.0  # wall-clock seconds spent waiting on the worker, over the check's requests
        self._since: float | None = None
        # Asleep is judged per request, from its first tick on: between requests, and before a request's first tick
        # (when the answer came at once), time that is not the worker's can pass (this thread waiting for the GIL
        # while another grades, for a CPU on a busy machine) and must not add up to a verdict.
        self._mark: tuple[float, Usage, float] | None = None  # (when, the worker's usage, this thread's own waiting)

    def used(self) -> Usage:
        """What the check's processes have spent so far."""
        self.worker.usage = self.worker.meter.read()
        return self.worker.usage - self.start

    def begin(self) -> None:
        self._since, self._mark = time.monotonic(), None

    def end(self) -> None:
        if self._since is not None:
            self.elapsed += time.monotonic() - self._since
            self._since = None

    def poll(self) -> float:
        """Seconds to wait for the worker before the next :meth:`tick`."""
        return min(_POLL_S, self.cpu_s / 20)

    def tick(self) -> None:
        """Raise WorkerTimeout (the caller kills the worker) when a limit is reached."""
        now = time.monotonic()
        elapsed = self.elapsed + (now - self._since if self._since is not None else 0.0)
        self.worker.usage = self.worker.meter.read(discover=True)
        used = self.worker.usage - self.start
        if self._mark is None:
            self._mark = (now, self.worker.usage, own_waiting())
        when, usage, own = self._mark
        since = self.worker.usage - usage
        idle = now - when - since.cpu_s - since.waiting_s - (own_waiting() - own)  # asleep or blocked: the submission's doing
        starved = elapsed >= STARVED_AFTER * (self.cpu_s + self.wall_s)  # far more than computing and idling allow
        kind = CPU if used.cpu_s >= self.cpu_s else BLOCKED if idle >= self.wall_s else STARVED if starved else None
        if kind is not None:
            raise WorkerTimeout(kind, used, elapsed)


class _ClockReader:
    """``read(n)`` over a socket under a Clock; what ``read_frame`` needs."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.clock: Clock | None = None

    def read(self, n: int) -> bytes:
        assert self.clock is not None
        while True:
            if _wait([self.sock], [], self.clock):
                try:
                    return self.sock.recv(min(n, 1 << 20))
                except BlockingIOError:
                    continue
                except OSError:
                    return b""


def _wait(read: list[socket.socket], write: list[socket.socket], clock: Clock) -> bool:
    """Wait one poll for the socket; True when it is ready. A tick that finds a limit reached looks once more
    before it raises: a grader that was itself kept from running must not stop a worker that has answered."""
    ready = select.select(read, write, [], clock.poll())
    if ready[0] or ready[1]:
        return True
    try:
        clock.tick()
    except WorkerTimeout:
        ready = select.select(read, write, [], 0)
        if ready[0] or ready[1]:
            return True
        raise
    return False


class _Output:
    """Drains a worker's stdout/stderr: keeps the first ``cap`` bytes, counts the rest, never blocks the worker."""

    def __init__(self, stream: Any, cap: int):
        self.kept, self.total, self.cap = bytearray(), 0, cap
        self._thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self._thread.start()

    def _drain(self, stream: Any) -> None:
        with stream:
            while chunk := stream.read1(1 << 16) if hasattr(stream, "read1") else stream.read(1 << 16):
                room = self.cap - len(self.kept)
                if room > 0:
                    self.kept += chunk[:room]
                self.total += len(chunk)

    def text(self, wait: float = _EXIT_GRACE_S) -> str:
        """What was kept; waits for the end of the output (every process that held the pipe is gone by now, so it
        comes at once, even on a busy machine: what a report shows must not depend on how fast it came)."""
        self._thread.join(wait)
        text = safe_text(bytes(self.kept).decode("utf-8", errors="replace"))
        if self.total > len(self.kept):
            text += f"\n... ({self.total - len(self.kept)} more bytes not shown)"
        return text


@dataclass
class _Exit:
    exit_code: int | None
    signal: int | None
    killed: bool
    memory_limit: bool
    sandbox_error: str | None = None  # reported by the supervisor, never by the worker: confinement failed

    def describe(self) -> str:
        if self.sandbox_error:
            return f"could not start: the sandbox could not be set up ({self.sandbox_error})"
        if self.memory_limit and self.signal == 9:
            return "exceeded the memory limit and was killed"
        if self.signal is not None:
            import signal as signals

            name = signals.Signals(self.signal).name if self.signal in signals.Signals._value2member_map_ else str(self.signal)
            return f"was killed by {name}" + (" (CPU time limit)" if name == "SIGXCPU" else "")
        return f"exited with code {self.exit_code}"


_CAP = 4000  # characters of any text a worker sends (an exception's name, message, traceback)
_MAX_DEPTH = 8  # of nested tuples and lists in a returned value, as the worker's to_wire allows
# What no report should carry: lone surrogates (UTF-8 cannot encode them, so writing the report would fail) and
# control characters other than newline and tab (they rewrite an instructor's terminal, and XML forbids most).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
MIN_REPLY_BYTES = 64 << 20  # a reply may always be this large ...
REPLY_FACTOR = 16  # ... or this many times the request's arrays: what the grader asked for bounds what it reads


def safe_text(value: str) -> str:
    """Text from a worker as every report can carry it: unsafe characters become U+FFFD."""
    return _UNSAFE.sub("\ufffd", value)


def _text(value: Any, cap: int = _CAP) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    value = safe_text(value)
    return value if len(value) <= cap else value[:cap] + f"... ({len(value) - cap} more characters)"


def _where(value: Any) -> dict[str, Any] | None:
    """{file, line} of where student code raised; a notebook's also {cell, cell_id}, and its line is the cell's."""
    if isinstance(value, dict) and type(value.get("line")) is int and isinstance(value.get("file"), str):
        where = {"line": value["line"], "file": _text(value["file"], 400)}
        ident = value.get("cell_id")
        if type(value.get("cell")) is int and isinstance(ident, str) and (ident == "" or CELL_ID.fullmatch(ident)):
            where.update(cell=value["cell"], cell_id=ident)
        return where
    return None



_KINDS = ("ndarray", "numpy-scalar", "float", "int", "bool")  # what an array sent back was, tensors apart
_DEVICE = re.compile(r"[a-z]{1,16}(:[0-9]{1,4})?")
_VALUE_FORMS = "{a: i, k: kind}, {a: i, k: tensor, dev: device, grad: bool}, {t: [...]}, {l: [...]}, {n: null}"


def _valid_value(spec: Any, n_arrays: int, depth: int = 0) -> None:
    """One returned value, as the worker's to_wire describes it: an array sent with the reply and what it was
    (``{"a": i, "k": kind}``; a tensor also names its device and whether it requires grad), a tuple or a list of
    values, or None. Raises ValueError for anything else."""
    if depth > _MAX_DEPTH or not isinstance(spec, dict):
        raise ValueError(f"a value is not one of {_VALUE_FORMS}")
    if "a" in spec:
        index, kind = spec["a"], spec.get("k")
        if not (type(index) is int and 0 <= index < n_arrays):
            raise ValueError(f"a value refers to array {index!r}; {n_arrays} were sent")
        if kind == "tensor":
            if set(spec) != {"a", "k", "dev", "grad"} or not (isinstance(spec["dev"], str) and _DEVICE.fullmatch(spec["dev"])) or type(spec["grad"]) is not bool:
                raise ValueError(f"a tensor value is not {{a: i, k: tensor, dev: device, grad: bool}}: {str(spec)[:200]}")
        elif set(spec) != {"a", "k"} or kind not in _KINDS:
            raise ValueError(f"a value's kind is {kind!r:.40}, not one of tensor, {', '.join(_KINDS)}")
        return
    if len(spec) != 1:
        raise ValueError(f"a value is not one of {_VALUE_FORMS}")
    (key, inner), = spec.items()
    if key in ("t", "l") and isinstance(inner, list):
        for item in inner:
            _valid_value(item, n_arrays, depth + 1)
    elif key != "n" or inner is not None:
        raise ValueError(f"a value is not one of {_VALUE_FORMS}")


def _valid_reply(reply: dict[str, Any], seq: int, n_arrays: int) -> dict[str, Any]:
    """The reply's shape, checked in one place, before its arrays are read; texts made safe and capped. Raises
    TypeError/ValueError for anything else.

    ``seq`` must echo the request's: a frame the submission wrote onto the socket itself, and the worker's real
    answer after it, must not be taken for the answers to this request and the next. Nothing on this channel can
    speak for the sandbox: a setup failure is only what the supervisor reports on its own channel (``exit``)."""
    if reply.get("seq") != seq or type(seq) is not int:
        raise ValueError(f"the reply to request {reply.get('seq')!r} came for request {seq}: something else wrote on the worker's channel")
    if type(reply.get("ok")) is not bool:
        raise ValueError("reply without a boolean 'ok'")
    if reply["ok"]:
        values = reply.get("values", [])
        if not isinstance(values, list):
            raise ValueError("'values' is not a list")
        for value in values:
            _valid_value(value, n_arrays)
        return {"ok": True, "values": values}
    error = reply.get("error")
    if not isinstance(error, dict):
        raise ValueError("'error' is not a mapping")
    where = error.get("where")
    step = error.get("step")
    return {
        "ok": False,
        "error": {
            "type": _text(error.get("type"), 200),
            "message": _text(error.get("message")),
            "traceback": _text(error.get("traceback")),
            "where": _where(where),
            "step": step if type(step) is int else None,
        },
    }


class Worker:
    """One live worker: ``request`` sends a frame and waits for the answer under a check's Clock."""

    def __init__(self, *, proto: socket.socket, output: _Output, ctl: socket.socket | None, proc: subprocess.Popen | None, max_bytes: int, meter: Meter):
        proto.setblocking(False)
        self._proto, self._ctl, self._proc = proto, ctl, proc
        self._reader = _ClockReader(proto)
        self.output = output
        self.meter = meter
        self.usage = self.born = Usage(0.0, 0.0)  # the meter's last reading; its reading once the worker was ready
        self.max_bytes = max_bytes
        self.dead = False
        self._seq = 0
        self._exit: _Exit | None = None

    def spent(self) -> Usage:
        """What the worker's processes have used since it was ready to serve (its own start is the grader's)."""
        return self.meter.read(discover=True) - self.born

    def request(self, header: dict[str, Any], arrays: list[np.ndarray], *, clock: Clock) -> tuple[dict[str, Any], list[np.ndarray]]:
        """Send one request; return the validated reply. Raises WorkerDied/WorkerTimeout (the worker is then gone)."""
        if self.dead:
            raise WorkerDied("is no longer running")
        self._seq += 1
        clock.begin()
        try:
            frame = encode({**header, "seq": self._seq}, arrays)
            self._send(frame, clock)
            self._reader.clock = clock
            limit = min(self.max_bytes, max(MIN_REPLY_BYTES, REPLY_FACTOR * len(frame)))
            seq = self._seq
            return read_frame(self._reader, max_bytes=limit, check=lambda reply, n: _valid_reply(reply, seq, n))
        except WorkerTimeout as exc:
            if exc.kind != STARVED:  # the submission's own doing: where it was is worth saying
                exc.stacks = self._dump()
            self.kill()
            raise
        except (EOFError, OSError):
            raise WorkerDied(self.exit(grace=_EXIT_GRACE_S).describe()) from None
        except (ExchangeError, ValueError, TypeError) as exc:
            self.kill()
            raise WorkerDied(f"sent malformed data ({exc}) and was stopped") from None
        finally:
            clock.end()

    def _send(self, data: bytes, clock: Clock) -> None:
        view = memoryview(data)
        while view:
            if _wait([], [self._proto], clock):
                try:
                    view = view[self._proto.send(view[: 1 << 20]) :]
                except BlockingIOError:
                    continue

    def _dump(self) -> tuple[tuple[tuple[str, int, str], ...], ...]:
        """The worker's Python stacks, asked for before it is stopped: SIGUSR1, on which the worker's faulthandler
        writes them onto the protocol stream (worker._offer_stacks); () when none come within _DUMP_WAIT_S."""
        try:
            if self._ctl is not None:
                self._ctl.sendall(b"dump")  # the supervisor signals it: only it knows the worker's pid
            elif self._proc is not None and hasattr(signal, "SIGUSR1"):
                os.kill(self._proc.pid, signal.SIGUSR1)
            else:
                return ()
        except OSError:
            return ()
        data = b""
        deadline = time.monotonic() + _DUMP_WAIT_S
        while len(data) < _DUMP_CAP and (left := deadline - time.monotonic()) > 0:
            if not select.select([self._proto], [], [], left)[0]:
                break
            try:
                chunk = self._proto.recv(_DUMP_CAP - len(data))
            except BlockingIOError:
                continue
            except OSError:
                break
            if not chunk:
                break
            data += chunk
            deadline = min(deadline, time.monotonic() + _DUMP_QUIET_S)
        return stacks_in(data)

    def kill(self) -> None:
        """Stop the worker and everything it started; idempotent."""
        if self.dead:
            return
        self.dead = True
        if self._ctl is not None:
            try:
                self._ctl.sendall(b"kill")
            except OSError:
                pass
        elif self._proc is not None:
            try:
                if os.name == "posix":  # its own session: take what it started along (setsid escapees excepted)
                    os.killpg(self._proc.pid, 9)
                else:
                    self._proc.kill()
            except OSError:
                pass

    def exit(self, *, grace: float = 0.0, timeout: float = 10.0) -> _Exit:
        """How the worker ended. It gets ``grace`` seconds to end by itself (so its own exit is not reported as our
        kill), then it is killed."""
        if self._exit is not None:
            return self._exit
        if self._ctl is not None:
            self._ctl.settimeout(max(grace, 0.001))  # 0 would make the socket non-blocking
            data = b""
            while not data.endswith(b"\n"):
                try:
                    chunk = self._ctl.recv(4096)
                except TimeoutError:
                    if self.dead:
                        break
                    self.kill()
                    self._ctl.settimeout(timeout)
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                data += chunk
            try:
                report = json.loads(data)
                error = report.get("sandbox_error")
                self._exit = _Exit(**{k: report[k] for k in ("exit_code", "signal", "killed", "memory_limit")}, sandbox_error=_text(error) if isinstance(error, str) else None)
            except (ValueError, KeyError, TypeError):
                self._exit = _Exit(exit_code=None, signal=None, killed=True, memory_limit=False)
            self.dead = True
            self._ctl.close()
        else:
            assert self._proc is not None
            try:
                code = self._proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.kill()
                code = self._proc.wait(timeout)
            self.dead = True
            self._exit = _Exit(exit_code=code if code >= 0 else None, signal=-code if code < 0 else None, killed=code < 0, memory_limit=False)
        self._proto.close()
        return self._exit

    def close(self) -> None:
        """End the worker: close the protocol (a well-behaved worker exits), then make sure."""
        if self._exit is None:
            try:
                self._proto.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.exit(grace=_EXIT_GRACE_S)


class Spawner:
    """Starts workers in the sandbox mode chosen for this grading run."""

    def __init__(self, *, mode: str, uid_base: int, unsafe_paths: list[str], secret_env: str, use_forkserver: bool = True):
        self.mode = mode
        self.uid_base = uid_base
        self._secret_env = secret_env
        # Per-slot uids (strict mode as root) are leased machine-wide: other graders on this machine use them too.
        self._slots = Slots(uid_base=uid_base, leases=LEASES if mode == STRICT and os.geteuid() == 0 else None)
        self._forkserver = ForkServer(unsafe_paths=unsafe_paths, secret_env=secret_env) if use_forkserver else None

    @property
    def forkserver(self) -> ForkServer | None:
        return self._forkserver

    def release(self, slot: int) -> None:
        self._slots.release(slot)

    def spawn(self, *, device: str, limits: Any, hide: Sequence[str], lifetime_cpu_s: float, threads: int = 1) -> tuple[Worker, int]:
        """A new worker and the slot it holds (release the slot after ``worker.exit()``). Its checks' clocks stop it;
        ``lifetime_cpu_s`` (RLIMIT_CPU, per process) is a backstop for all of them together."""
        slot = self._slots.take()
        try:
            conf = Confinement(
                mode=self.mode,
                uid=self.uid_base + slot if self.mode == STRICT else None,
                cpu_s=lifetime_cpu_s,
                memory_mb=limits.memory_mb,
                hide=list(hide) if self.mode == STRICT else [],
                limit_address_space=device == "cpu",
                gpu=device != "cpu",
            )
            cap = limits.output_kb << 10
            max_bytes = max(64 << 20, limits.memory_mb << 20)
            if self._forkserver is not None:
                supervisor, proto, out_read, ctl = self._forkserver.spawn(confinement=conf, device=device, threads=threads)
                output = _Output(os.fdopen(out_read, "rb", buffering=0), cap)
                kind = self._forkserver.hello()["cgroup"]
                meter = Meter(supervisor, include_root=False, members=MemoryCgroup.members(kind, supervisor) if kind else None)
                return Worker(proto=proto, output=output, ctl=ctl, proc=None, max_bytes=max_bytes, meter=meter), slot
            return self._spawn_subprocess(conf, device, threads, cap, max_bytes), slot
        except BaseException:
            self.release(slot)
            raise

    def _spawn_subprocess(self, conf: Confinement, device: str, threads: int, cap: int, max_bytes: int) -> Worker:
        listener = socket.create_server(("127.0.0.1", 0))
        token = secrets.token_hex(16)
        env = {k: v for k, v in os.environ.items() if k != self._secret_env and not k.startswith("AUTOGRADER_")}
        command = [sys.executable, "-m", "autograder.sandbox.worker", "--connect", str(listener.getsockname()[1]), "--token", token, "--device", device, "--threads", str(threads)]
        kwargs: dict[str, Any] = {}
        if os.name == "posix":
            kwargs.update(start_new_session=True, preexec_fn=_posix_limits(conf))
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tempfile.mkdtemp(prefix="autograder-worker-"), env=env, **kwargs)
        output = _Output(proc.stdout, cap)
        listener.settimeout(120)  # a fresh interpreter imports torch first
        with listener:
            while True:
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    proc.kill()
                    raise WorkerDied("the worker process did not start within 120 s") from None
                conn.settimeout(10)
                try:
                    if conn.recv(len(token)).decode(errors="replace") == token:
                        break
                except OSError:
                    pass
                conn.close()  # not our worker
        conn.settimeout(None)
        worker = Worker(proto=conn, output=output, ctl=None, proc=proc, max_bytes=max_bytes, meter=Meter(proc.pid, include_root=True))
        worker.usage = worker.born = worker.meter.read(discover=True)  # the interpreter's start (import torch) is not the submission's
        return worker

    def close(self) -> None:
        if self._forkserver is not None:
            self._forkserver.close()


def _posix_limits(conf: Confinement):
    def apply() -> None:
        import resource

        for which, value in ((resource.RLIMIT_CPU, int(conf.cpu_s) + 1), (resource.RLIMIT_FSIZE, conf.fsize_mb << 20), (resource.RLIMIT_CORE, 0)):
            try:
                resource.setrlimit(which, (value, value))
            except (ValueError, OSError):
                pass

    return apply


def describe_mode(mode: str, why: str) -> str | None:
    """The one line a user sees when isolation is reduced (None in strict mode)."""
    if mode == STRICT:
        return f"note: strict sandbox without root: {why}." if why == ROOTLESS else None
    return f"note: reduced isolation (process sandbox): {why}. Hidden checks graded here are not protected from the code under test."
