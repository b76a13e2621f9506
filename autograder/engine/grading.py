"""The grading engine: runs each topic's checks against a submission through sandboxed workers.

The grading process imports the checks and the reference solution and never imports submission code; workers run
the submission and answer with arrays. One :class:`Grader` serves any number of submissions (the CLI grades one,
a batch grades hundreds, a notebook cell grades a few functions), reusing one fork server.
"""

from __future__ import annotations

import builtins
import dataclasses
import importlib
import logging
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from ..course.config import RECORDED, SOLUTIONS, Course, Limits, Topic
from ..course.submission import Source, Submission
from ..errors import ConfigError, SandboxUnavailable, UsageError
from ..sandbox.confinement import PROCESS, STRICT
from ..sandbox.locations import stopped_at
from ..sandbox.slots import SlotLeaseError
from ..sandbox.workers import BLOCKED, CPU, SETUP_S, STARVED, Clock, Spawner, Worker, WorkerDied, WorkerTimeout, describe_mode
from .checks import Check, CheckFailed, StudentError, Trial, checks_in
from .results import ERROR, FAILED, NOT_ATTEMPTED, PASSED, CheckResult, Report, TopicResult
from .seeding import check_seed, digest
from .visibility import redact, redact_check

__all__ = ["Grader", "resolve_devices", "default_jobs"]

log = logging.getLogger("autograder")
_ORDER = {PASSED: 0, NOT_ATTEMPTED: 1, FAILED: 2, ERROR: 3}
STARVED_RETRIES = 2  # a check (or a module's import) starved of CPU runs this many more times, then the grader reports it
_BUSY = "no points are given or taken for it: grade again when the machine is less busy"


def resolve_devices(choice: str) -> list[str]:
    """``cpu``, ``cuda``, ``all`` (both; CUDA required) or ``auto`` (CUDA when present)."""
    if choice == "cpu":
        return ["cpu"]
    import torch

    has_cuda = torch.cuda.is_available()
    if choice == "auto":
        return ["cpu", "cuda"] if has_cuda else ["cpu"]
    if not has_cuda:
        raise UsageError(f"--device {choice}: no CUDA GPU is available here (torch.cuda.is_available() is False)")
    return ["cuda"] if choice == "cuda" else ["cpu", "cuda"]


def default_jobs() -> int:
    """The cores this process may use (a container or taskset may allow fewer than the machine has)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows
        return max(1, os.cpu_count() or 1)


@dataclass
class _Outcome:
    status: str
    message: str = ""
    mistake: dict[str, str] | None = None
    figures: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    timed_out: bool = False  # it ran out of its own time (CPU, or asleep): later checks of the topic get less
    starved: WorkerTimeout | None = None  # the machine kept it from running: run it again
    cpu_s: float = 0.0  # what its worker's processes spent on it
    summary: str = ""  # what failed in the grader's words only, for hidden checks shown below `full`: CheckResult.summary
    stopped_at: str = ""  # where it was when it ran out of time: CheckResult.stopped_at

    def __post_init__(self) -> None:
        self.summary = self.summary or self.message


# Exception names a hidden check's summary may show: Python's own and torch's GPU one (a submission names its
# classes as it likes, so any other name could carry what a hidden check sent it).
_KNOWN_ERRORS = frozenset([*(n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)), "OutOfMemoryError"])


class Grader:
    """A grading session over one course. Use as a context manager; ``grade`` may be called many times.

    ``wrap_reference(topic, reference)`` replaces a topic's reference for its checks (``grade release student`` records
    the answers the public checks get through it).
    """

    def __init__(self, *, course: Course, sandbox: str = "auto", devices: Iterable[str] = ("cpu",), hide: Iterable[Path] = (), use_forkserver: bool | None = None, wrap_reference: Callable[[Topic, Any], Any] | None = None):
        self.course = course
        self._wrap_reference = wrap_reference
        self.devices = list(devices)
        if use_forkserver is None:
            use_forkserver = sys.platform.startswith("linux")
        if sandbox == STRICT and not use_forkserver:
            raise SandboxUnavailable(f"--sandbox strict: needs Linux namespaces; this is {sys.platform}")
        root = course.root
        self._hide = [str(p) for p in [root / "solutions", root / "checks" / "hidden", *course.hide, *hide]]
        if course.secret_file is not None:
            self._hide.append(str(course.secret_file))
        wanted = PROCESS if sandbox == PROCESS else STRICT
        # Started first: the fork server imports torch while this process imports the references.
        try:
            self._spawner = Spawner(mode=wanted, uid_base=course.uid_base, unsafe_paths=[str(root)], secret_env=course.secret_env, use_forkserver=use_forkserver)
        except SlotLeaseError as exc:
            raise SandboxUnavailable(f"{exc} (--sandbox process grades without per-slot uids)") from None
        if root not in map(Path, sys.path):
            sys.path.insert(0, str(root))
        self._requested = sandbox
        self._mode: str | None = None
        self.mode_reason = ""  # why the mode in force is what it is (set with it)
        self.notes: list[str] = []
        if course.secret() is None and any(t.hidden_checks.is_file() for t in course.topics):
            self.notes.append(
                f"note: no course secret (set {course.secret_env}): hidden-check inputs depend on the submission alone;"
                " set one when grading for credit."
            )
        self._modules: dict[str, tuple[Any, list[tuple[Check, bool]]]] = {}
        self._calls: dict[tuple[str, str], set[str]] = {}
        self._inputs: dict[tuple[str, str], str] = {}

    # ---- session ---------------------------------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        """The sandbox mode in force: ``auto`` resolves to strict when a strict worker actually starts here."""
        if self._mode is None:
            hello = self._spawner.forkserver.hello() if self._spawner.forkserver else None
            why = hello["why"] if hello else f"no fork server on {sys.platform}"
            why = "--sandbox process was requested" if self._requested == PROCESS else why
            problem = None if hello and hello["strict"] and self._requested != PROCESS else why
            if problem is None:
                problem = self._try_strict()
                why = f"a strict worker failed to start ({problem})" if problem else why
            if problem is not None and self._requested == STRICT:
                raise SandboxUnavailable(f"--sandbox strict is not available here: {why}")
            self._mode = self._spawner.mode = PROCESS if problem else STRICT
            self.mode_reason = why
            note = describe_mode(self._mode, why)
            if note:
                self.notes.append(note)
        return self._mode

    @property
    def memory_cgroup(self) -> str | None:
        """The cgroup version that bounds each worker's memory with its children's, or None (address space only)."""
        return self._spawner.forkserver.hello()["cgroup"] if self._spawner.forkserver else None

    def _try_strict(self) -> str | None:
        """Start one strict worker with nothing in it: None when that works, else what went wrong."""
        self._spawner.mode = STRICT
        worker, slot = self._spawner.spawn(device="cpu", limits=Limits(cpu_s=SETUP_S, wall_s=SETUP_S, memory_mb=512, output_kb=4), hide=self._hide, lifetime_cpu_s=SETUP_S)
        try:
            worker.request({"op": "hello"}, [], clock=Clock(worker, cpu_s=SETUP_S, wall_s=SETUP_S))  # confined and serving
            return None
        except WorkerTimeout as exc:
            return f"the worker did not start ({exc.kind}: {exc.used.cpu_s:.1f} s of CPU, {exc.used.waiting_s:.1f} s waiting for one, in {exc.elapsed:.1f} s)"
        except WorkerDied as exc:
            return worker.exit().sandbox_error or f"the worker {exc}"
        finally:
            worker.close()
            self._spawner.release(slot)

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._spawner.close()

    # ---- course material (trusted) ---------------------------------------------------------------------------------

    def _material(self, topic: Topic) -> tuple[Any, list[tuple[Check, bool]]]:
        if topic.id in self._modules:
            return self._modules[topic.id]
        if not self._modules:
            import torch

            # The referee's tensors are tiny (a check's inputs, a reference's answer): a second thread only spins,
            # and on a busy machine (the workers, a batch's other jobs) each small operation then waits for a core.
            torch.set_num_threads(1)
        found: dict[str, tuple[Check, bool]] = {}
        for hidden, path in ((False, topic.public_checks), (True, topic.hidden_checks)):
            if not path.is_file():
                continue
            module = _import(f"checks.{'hidden' if hidden else 'public'}.{topic.id}", path)
            for chk in checks_in(module):
                if chk.id in found:
                    raise ConfigError(f"{path}: check {chk.id!r} is defined twice for topic {topic.id!r}")
                if chk.id not in topic.checks:
                    raise ConfigError(f"{path}: defines check {chk.id!r}, which {self.course.path.name} does not list under topic {topic.id!r} (add it with its points)")
                found[chk.id] = (chk, hidden)
        missing = [c for c in topic.checks if c not in found]
        if missing:
            raise ConfigError(f"{self.course.path.name}: topic {topic.id!r} lists checks that no check module defines: {', '.join(missing)}")
        if self.course.reference == RECORDED:
            from ..course.recorded import load

            reference: Any = load(path=topic.answers, topic=topic.id)
        else:
            reference = _import(f"solutions.{topic.id}", topic.solution)
        if self._wrap_reference is not None:
            reference = self._wrap_reference(topic, reference)
        self._modules[topic.id] = (reference, [found[c] for c in topic.checks])
        return self._modules[topic.id]

    # ---- grading ---------------------------------------------------------------------------------------------------

    def checks(self, topic_id: str, *, hidden: bool = True) -> list[Check]:
        """The topic's checks, in grading order (the self-test reads what each declares); public ones only unless
        ``hidden``."""
        return [chk for chk, is_hidden in self._material(self.course.topic(topic_id))[1] if hidden or not is_hidden]

    def calls(self, topic_id: str) -> dict[str, set[str]]:
        """Check id -> the submission functions and classes it has called so far (the self-test's map of coverage)."""
        return {check: set(names) for (topic, check), names in self._calls.items() if topic == topic_id}

    def inputs(self, topic_id: str) -> dict[str, str]:
        """Check id -> the digest of the inputs it sent the submission in its latest run (the self-test grades the
        reference under two seeds and compares them)."""
        return {check: found for (topic, check), found in self._inputs.items() if topic == topic_id}

    def grade(
        self,
        submission: Submission,
        *,
        topics: Iterable[str] | None = None,
        public_only: bool = False,
        devices: Iterable[str] | None = None,
        cpu_s: float | None = None,
        checks: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
        until_failure: bool = False,
        secret: bytes | None = None,
        on_check: Callable[[str, CheckResult], None] | None = None,
        on_topic: Callable[[TopicResult], None] | None = None,
    ) -> Report:
        """Grade ``submission``.

        The self-test narrows a grading of a mutant: ``devices`` (a subset of the session's), ``cpu_s`` (lower time
        budgets per check: CPU and wall clock), ``checks`` (these checks, in this order; or topic id -> its checks: ``grade run --check``), ``until_failure`` (stop at the first
        check that does not pass; the report then holds only the checks that ran) and ``secret`` (draw inputs under
        this course secret instead of the course's own: a mutant is graded under several).

        ``on_check(topic_id, result)`` hears each check's result, as the report will hold it, once the check has run
        on every device (a terminal shows results as they come); ``on_topic(result)`` hears each topic once it is graded.
        """
        chosen = [self.course.topic(t) for t in topics] if topics else [t for t in self.course.topics if t.id in submission.sources]
        if not chosen:
            raise UsageError(f"{submission.label}: no topic to grade (expected files named {', '.join(t.id + '.py' for t in self.course.topics)})")
        if cpu_s is not None:
            chosen = [dataclasses.replace(t, limits=dataclasses.replace(t.limits, cpu_s=min(cpu_s, t.limits.cpu_s), wall_s=min(cpu_s, t.limits.wall_s))) for t in chosen]
        using = [d for d in self.devices if devices is None or d in devices]
        if not using:
            raise UsageError(f"devices {list(devices or [])}: this grader runs on {', '.join(self.devices)}")
        mode = self.mode
        results = []
        for topic in chosen:
            only = checks.get(topic.id, ()) if isinstance(checks, Mapping) else checks
            results.append(self._grade_topic(topic, submission.sources.get(topic.id), public_only, using, only, until_failure, secret, on_check))
            if on_topic is not None:
                on_topic(results[-1])
        hidden = [f"{t.id}: hidden checks ({t.hidden.checks}, {t.hidden.points:g} points) run when you submit; this grade counts public checks only" for t in chosen if t.hidden]
        return Report(course=self.course.title, submission=submission.label, sandbox=mode, devices=using, topics=results, notes=[*self.notes, *submission.notes, *hidden], hidden_feedback=self.course.hidden_feedback)

    def _grade_topic(self, topic: Topic, source: Source | None, public_only: bool, using: list[str], only: Sequence[str] | None = None, until_failure: bool = False, secret: bytes | None = None, on_check: Callable[[str, CheckResult], None] | None = None) -> TopicResult:
        reference, checks = self._material(topic)
        checks = [(c, hidden) for c, hidden in checks if not (hidden and public_only)]
        if only is not None:
            by_id = {c.id: (c, hidden) for c, hidden in checks}
            unknown = [c for c in only if c not in by_id]
            if unknown:
                raise UsageError(f"topic {topic.id!r} has no check {unknown[0]!r}")
            checks = [by_id[c] for c in only]
        devices = [d for d in using if d in topic.devices] or using[:1]
        filename = source.filename if source else f"{topic.id}.py"
        if source is None or source.text is None:
            problem = source.problem if source else f"{topic.id}.py: nothing submitted for this topic"
            status = NOT_ATTEMPTED if source is None or source.missing else FAILED
            results = [CheckResult(c.id, c.title, topic.checks[c.id], status, hidden, problem or "", None, devices) for c, hidden in checks]
            return redact(TopicResult(topic.id, topic.title, filename, results, error=problem), self.course.hidden_feedback)

        outcomes: dict[str, dict[str, _Outcome]] = {c.id: {} for c, _ in checks}
        topic_error, outputs, after_hidden, cpu, stopped = None, [], False, [0.0], []

        def result(chk: Check, hidden: bool) -> CheckResult:
            merged = _merge(outcomes[chk.id], devices, topic_error)
            figures = next((o.figures for o in outcomes[chk.id].values() if o.figures), [])  # the first device's
            spent = round(sum(o.cpu_s for o in outcomes[chk.id].values()), 3)
            return CheckResult(chk.id, chk.title, topic.checks[chk.id], merged.status, hidden, merged.message, merged.mistake, devices, figures, merged.summary, spent, merged.stopped_at)

        def done(chk: Check, hidden: bool) -> None:
            if on_check is not None:
                on_check(topic.id, redact_check(result(chk, hidden), self.course.hidden_feedback))

        for device in devices:
            topic_error = self._run_device(topic, source, reference, checks, device, outcomes, outputs, cpu, until_failure, secret, done if device == devices[-1] else None, stopped)
            # A module that fails to load once a hidden check has run may say what that check sent it.
            after_hidden = topic_error is not None and any(outcomes[c.id] for c, hidden in checks if hidden)
            if topic_error or (until_failure and any(o.status != PASSED for o in _outcomes_of(outcomes))):
                break
        if until_failure and not topic_error:
            checks = [(c, hidden) for c, hidden in checks if outcomes[c.id]]
        results = [result(chk, hidden) for chk, hidden in checks]
        output = "\n".join(o for o in outputs if o)
        return redact(TopicResult(topic.id, topic.title, filename, results, error=topic_error, output=output, error_after_hidden=after_hidden, cpu_s=round(cpu[0], 3), stopped_at=stopped[-1] if topic_error and stopped else ""), self.course.hidden_feedback)

    def _run_device(self, topic: Topic, source: Source, reference: Any, checks: list[tuple[Check, bool]], device: str, outcomes: dict[str, dict[str, _Outcome]], outputs: list[str], cpu: list[float], until_failure: bool, secret: bytes | None, done: Callable[[Check, bool], None] | None = None, stopped: list[str] | None = None) -> str | None:
        """Run every check on one device, respawning the worker after a crash, and running a check again on a new
        worker when the machine starved it; returns a topic-level error. ``cpu[0]`` adds up what the workers spent."""
        worker: tuple[Worker, int] | None = None
        secret = secret if secret is not None else self.course.secret()
        # Public checks draw fresh inputs when the course grades (so answers hardcoded for the public inputs earn
        # nothing), but not without the secret (they would be predictable), not from recorded answers (which exist for
        # the public inputs only) and not while recording those answers (wrap_reference: a student bundle's).
        fresh_public = secret is not None and self.course.reference == SOLUTIONS and self._wrap_reference is None
        limits = topic.limits  # lowered to after_timeout_s once a check runs out of time: a loop costs it once

        def finish() -> None:
            nonlocal worker
            assert worker is not None
            cpu[0] += worker[0].spent().cpu_s  # before it ends: its processes' own time goes with them
            worker[0].close()
            outputs.append(worker[0].output.text())
            self._finish(worker)
            worker = None

        try:
            for index, (chk, hidden) in enumerate(checks):
                spent = 0.0
                for attempt in range(STARVED_RETRIES + 1):
                    if worker is None:
                        worker, problem, starved = self._start(topic, source, device, lifetime_cpu_s=limits.cpu_s * (len(checks) + 1), stopped=stopped if stopped is not None else [])
                        if problem or starved:
                            finish()
                        if problem:
                            return problem
                        if starved and attempt < STARVED_RETRIES:
                            continue
                        if starved:  # the import never got the CPU it needed: nothing left is graded on this device
                            for later, _ in checks[index:]:
                                outcomes[later.id][device] = _Outcome(ERROR, f"not graded: the machine was too busy to import {source.filename} ({_waited(starved, attempt + 1)}); {_BUSY}")
                            return None
                    assert worker is not None
                    seed = check_seed(topic=topic.id, check=chk.id, hidden=hidden, public_seed=self.course.public_seed, secret=secret, submission=digest(source.code), fresh_public=fresh_public)
                    outcome = self._run_check(chk, topic, reference, worker[0], device, seed, limits, attempt, source)
                    spent += outcome.cpu_s
                    if worker[0].dead:
                        finish()
                    if outcome.starved is None:
                        break
                outcome.cpu_s = spent
                outcomes[chk.id][device] = outcome
                if done is not None:
                    done(chk, hidden)
                if outcome.timed_out:
                    limits = dataclasses.replace(limits, cpu_s=min(limits.cpu_s, limits.after_timeout_s), wall_s=min(limits.wall_s, limits.after_timeout_s))
                if until_failure and outcome.status != PASSED:
                    break
        finally:
            if worker is not None:
                finish()
        return None

    def _start(self, topic: Topic, source: Source, device: str, *, lifetime_cpu_s: float, stopped: list[str]) -> tuple[tuple[Worker, int], str | None, WorkerTimeout | None]:
        """A worker with the submission's module loaded; else a problem to report (and, for an import out of time, where
        it was, added to ``stopped``), or how the machine starved it."""
        worker, slot = self._spawner.spawn(device=device, limits=topic.limits, hide=self._hide, lifetime_cpu_s=lifetime_cpu_s)
        load = {"op": "load", "module": topic.id, "filename": source.filename, "source": source.text, "helpers": [list(h) for h in source.helpers], "cells": [list(c) for c in source.cells], "gpu_memory_mb": topic.limits.memory_mb if device == "cuda" else None}
        limits = topic.limits
        ready = False
        try:
            # Confined and serving first: the sandbox's setup is neither the import's time nor the topic's CPU time.
            worker.request({"op": "hello"}, [], clock=Clock(worker, cpu_s=SETUP_S, wall_s=SETUP_S))
            ready = True
            worker.usage = worker.born = worker.meter.read(discover=True)
            clock = Clock(worker, cpu_s=limits.cpu_s, wall_s=limits.wall_s)
            reply, _ = worker.request(load, [], clock=clock)
            clock.used()
        except WorkerTimeout as exc:
            if exc.kind == STARVED:
                return (worker, slot), None, exc
            if not ready:
                return (worker, slot), f"the {self._spawner.mode} sandbox could not be set up: the worker was not ready after {SETUP_S:g} s", None
            stopped.append(_stopped_at(exc, source))
            return (worker, slot), f"importing {source.filename}: {_ran_out(exc.kind, limits, 'the import')}", None
        except WorkerDied as exc:
            failure = worker.exit().sandbox_error  # the supervisor's word, not the worker's
            if failure:
                return (worker, slot), f"the {self._spawner.mode} sandbox could not be set up: {failure}", None
            return (worker, slot), f"importing {source.filename}: the worker {exc}", None
        if not reply.get("ok"):
            error = reply.get("error") or {}
            return (worker, slot), f"importing {source.filename} failed:\n{str(error.get('traceback', '')).rstrip()}", None
        return (worker, slot), None, None

    def _finish(self, worker: tuple[Worker, int]) -> None:
        worker[0].exit()
        self._spawner.release(worker[1])

    def _run_check(self, chk: Check, topic: Topic, reference: Any, worker: Worker, device: str, seed: int, limits: Limits, attempt: int, source: Source) -> _Outcome:
        clock = Clock(worker, cpu_s=limits.cpu_s, wall_s=limits.wall_s)

        def request(header: dict[str, Any], arrays: list[np.ndarray]) -> tuple[dict[str, Any], list[np.ndarray]]:
            return worker.request(header, arrays, clock=clock)

        trial = Trial(rng=np.random.default_rng(seed), device=device, reference=reference, tolerance=lambda dtype: self.course.tolerance(dtype, device), request=request, autograd=chk.autograd, forbid=chk.forbid)
        outcome = self._judge(chk, topic, trial, limits, attempt, source)
        outcome.figures = trial.figures
        outcome.cpu_s = clock.used().cpu_s
        return outcome

    def _judge(self, chk: Check, topic: Topic, trial: Trial, limits: Limits, attempt: int, source: Source) -> _Outcome:
        try:
            chk.fn(trial)
            return _Outcome(PASSED)
        except CheckFailed as exc:
            mistake = {"id": exc.mistake.id, "title": exc.mistake.title, "fix": exc.mistake.fix} if exc.mistake else None
            return _Outcome(FAILED, exc.message, mistake, summary=f"{trial.current or chk.title}: not the expected result")
        except StudentError as exc:
            if exc.not_attempted:
                return _Outcome(NOT_ATTEMPTED, f"{exc.call}: not attempted (raises NotImplementedError)")
            kind = exc.type if exc.type in _KNOWN_ERRORS else "an exception"
            if exc.type == "OutOfMemoryError" and trial.device == "cuda":
                return _Outcome(FAILED, f"{exc.call}: ran out of GPU memory (a worker may use {topic.limits.memory_mb} MiB of the GPU: limits.memory_mb): {exc.text}", summary=f"{exc.call}: ran out of GPU memory")
            return _Outcome(FAILED, f"{exc.call} raised {exc.type}: {exc.text}\n{exc.traceback.rstrip()}", summary=f"{exc.call} raised {kind}")
        except WorkerTimeout as exc:
            call = trial.current or "your code"
            if exc.kind != STARVED:
                after = f" (an earlier check of this topic ran out of time, so each later one has {limits.cpu_s:g} s)" if limits.cpu_s < topic.limits.cpu_s else ""
                ran_out = f"{call}: {_ran_out(exc.kind, limits, 'this check')}"
                # where it was is the submission's word (its stack dump), and a sample: kept beside the message
                return _Outcome(FAILED, f"{ran_out}{after}", timed_out=True, stopped_at=_stopped_at(exc, source))
            if attempt < STARVED_RETRIES:
                return _Outcome(FAILED, "", starved=exc)
            return _Outcome(ERROR, f"{call}: not graded: the machine was too busy to run this check ({_waited(exc, attempt + 1)}); {_BUSY}")
        except WorkerDied as exc:
            return _Outcome(FAILED, f"{trial.current or 'your code'}: the worker {exc}", summary=f"{trial.current or 'your code'}: the worker stopped before it answered")
        except Exception as exc:  # noqa: BLE001 - a broken check must not give points or stop the run
            log.error("internal error in check %s.%s:\n%s", topic.id, chk.id, traceback.format_exc())
            blame = "this is the grader's fault, not yours: please report it"
            return _Outcome(ERROR, f"internal error in check {topic.id}.{chk.id} ({type(exc).__name__}: {exc}); {blame}", summary=f"internal error in check {topic.id}.{chk.id}; {blame}")
        finally:
            self._calls.setdefault((topic.id, chk.id), set()).update(trial.calls)
            self._inputs[(topic.id, chk.id)] = trial.inputs_digest


def _ran_out(kind: str, limits: Limits, what: str) -> str:
    """What a submission that ran out of time did: the same words whatever the machine's load."""
    if kind == CPU:
        return f"used {what}'s {limits.cpu_s:g} s of CPU time (limits.cpu_s) without finishing and was stopped"
    assert kind == BLOCKED
    return f"spent {limits.wall_s:g} s neither computing nor waiting for a CPU (asleep or blocked: limits.wall_s) and was stopped"


def _stopped_at(exc: WorkerTimeout, source: Source) -> str:
    """``stopped while running toy.py, line 3, in scale: `while True:` ``, or "" (locations.stopped_at)."""
    files = {source.filename: source.text or "", **{filename: text for _, filename, text in source.helpers}}
    return stopped_at(exc.stacks, files=files, cells={source.filename: source.cells})


def _waited(exc: WorkerTimeout, times: int) -> str:
    return f"in {exc.elapsed:.0f} s its worker got {exc.used.cpu_s:.1f} s of CPU time and waited {exc.used.waiting_s:.0f} s for a CPU; tried {times} times"


def _outcomes_of(outcomes: dict[str, dict[str, _Outcome]]) -> Iterable[_Outcome]:
    return (o for by_device in outcomes.values() for o in by_device.values())


def _merge(by_device: dict[str, _Outcome], devices: list[str], topic_error: str | None) -> _Outcome:
    if topic_error and not by_device:
        return _Outcome(FAILED, "not graded: the module could not be loaded (see the topic's error)")
    missing = [d for d in devices if d not in by_device]
    if missing:
        by_device = {**by_device, **{d: _Outcome(FAILED, "not graded on this device (the module could not be loaded)") for d in missing}}
    worst = max(by_device.values(), key=lambda o: _ORDER[o.status])
    if worst.status == PASSED or len(devices) == 1:
        return worst
    failed = [(d, o) for d, o in by_device.items() if o.status != PASSED]
    mistake = next((o.mistake for o in by_device.values() if o.mistake), None)
    stopped_at = "\n".join(f"[{d}] {o.stopped_at}" for d, o in failed if o.stopped_at)
    return _Outcome(worst.status, "\n".join(f"[{d}] {o.message}" for d, o in failed), mistake, summary="\n".join(f"[{d}] {o.summary}" for d, o in failed), stopped_at=stopped_at)


def _import(name: str, path: Path) -> ModuleType:
    """Import a course module (checks or reference) by its dotted name, reporting failures as config errors."""
    try:
        module = importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - any failure here is the course's, reported with its file
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        raise ConfigError(f"{path}: cannot import {name}: {detail}") from None
    if Path(getattr(module, "__file__", "") or "").resolve() != path.resolve():
        raise ConfigError(f"{path}: importing {name} found {getattr(module, '__file__', None)} instead (is another package named {name.split('.')[0]!r} installed?)")
    return module
