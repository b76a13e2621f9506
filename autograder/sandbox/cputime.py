"""What a worker's processes cost: the CPU time they used, and how long they waited for a CPU.

Time verdicts come from CPU time, not from the wall clock, so that a busy machine cannot fail a correct submission.
Both figures are the kernel's own accounting of every process under the worker's root (the supervisor, or the worker
itself where there is none), read from /proc by the grader: nothing the submission runs can change them, and a process
it starts, double-forks or reparents stays in the tree (a pid namespace's init, or the subreaper, adopts it).

- CPU time: user + system time of each live process, plus what the processes it reaped used (``cutime``/``cstime``).
- Waiting: each thread's run-queue delay (``schedstat``): time it could have run but the machine ran something else.
  It is what tells a starved worker from one that sleeps or blocks.

Where /proc is missing (macOS, Windows) psutil reads the CPU time; the waiting is unknown there and counts as 0.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["Usage", "Meter", "own_waiting"]

_PROC = os.path.isfile("/proc/self/stat")
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Usage:
    cpu_s: float  # CPU time of the tree
    waiting_s: float  # run-queue delay summed over the tree's threads

    def __sub__(self, other: Usage) -> Usage:
        return Usage(self.cpu_s - other.cpu_s, self.waiting_s - other.waiting_s)


def own_waiting() -> float:
    """The calling thread's own run-queue delay so far, in seconds (0 where the kernel does not say): a grader kept
    from running by a busy machine must not count that time as the worker's."""
    try:
        with open("/proc/thread-self/schedstat", "rb") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


class Meter:
    """The usage of ``root``'s descendants (and of ``root`` itself with ``include_root``), never decreasing: a process
    whose time the kernel drops (reaped by a parent that ignores SIGCHLD) does not give back what it was seen using.

    Finding the descendants means reading every process's stat (a millisecond or more): it is done on ``discover``
    only, unless ``members`` names a file that lists them (the worker's cgroup.procs). Other readings look at the
    processes found last time; one started since is counted from the next discovery on, with all it used by then.
    """

    def __init__(self, root: int, *, include_root: bool, members: str | None = None):
        self.root, self.include_root, self.members = root, include_root, members
        self._tree: list[int] | None = None
        self._cpu = 0.0
        self._waited: dict[tuple[int, int], int] = {}  # (pid, tid) -> run-queue delay in ns, last seen

    def read(self, *, discover: bool = False) -> Usage:
        if _PROC:
            cpu = self._read_proc(discover or self._tree is None)
        else:
            cpu = self._read_psutil()
        self._cpu = max(self._cpu, cpu)
        return Usage(self._cpu, sum(self._waited.values()) / 1e9)

    def _read_proc(self, discover: bool) -> float:
        listed = self._listed()
        if listed is not None:
            self._tree = listed
        elif discover or self._tree is None:
            self._tree = self._scan()
        cpu = 0
        for pid in self._tree:
            try:
                with open(f"/proc/{pid}/stat", "rb") as f:
                    raw = f.read()
            except OSError:
                continue  # gone: what it used is in its reaper's cutime, or lost with a parent that did not wait
            cpu += sum(int(v) for v in raw[raw.rfind(b")") + 2 :].split()[11:15])  # utime stime cutime cstime
            self._read_waiting(pid)
        return cpu / _TICK

    def _listed(self) -> list[int] | None:
        if self.members is None:
            return None
        try:
            with open(self.members, "rb") as f:
                pids = [int(p) for p in f.read().split()]
        except (OSError, ValueError):
            return None
        return [p for p in pids if p != self.root or self.include_root]

    def _scan(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    raw = f.read()
            except OSError:
                continue  # gone
            ppid = int(raw[raw.rfind(b")") + 2 :].split()[1])  # the name may hold spaces and parentheses
            children.setdefault(ppid, []).append(int(entry))
        tree = [self.root] if self.include_root else []
        todo = list(children.get(self.root, []))
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(children.get(pid, []))
        return tree

    def _read_waiting(self, pid: int) -> None:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            return
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat", "rb") as f:
                    self._waited[(pid, int(tid))] = int(f.read().split()[1])
            except (OSError, ValueError, IndexError):
                continue  # the thread ended, or this kernel keeps no schedstat

    def _read_psutil(self) -> float:
        import psutil

        try:
            root = psutil.Process(self.root)
            tree = ([root] if self.include_root else []) + root.children(recursive=True)
        except psutil.Error:
            return self._cpu
        cpu = 0.0
        for process in tree:
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            cpu += times.user + times.system + getattr(times, "children_user", 0.0) + getattr(times, "children_system", 0.0)
        return cpu
