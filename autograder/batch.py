"""``grade batch``: grade a class, one submission per entry, with nothing lost on the way.

``SUBMISSIONS/<name>/`` is a folder laid out like exercises/ (topic files at any depth: the shallowest folder that
holds one counts), ``<name>.zip`` the same zipped, ``<name>.ipynb`` one topic's notebook (the topic its
metadata, test cells, name or functions show, unless one ``--topic`` says).
Each submission's results land in ``RESULTS/submissions/<name>/`` in every format, written atomically as soon as it is
graded; ``batch.json`` is written last and marks it done with its cache key: what the result depends on (the
submission's digest, the topics, the devices, the course's digest, the secret's digest, the grader's version). Run
again after an interruption, with new submissions or with anything in the key changed, a batch grades exactly the
entries whose key changed (and says why), then rewrites the class files from all results: ``RESULTS/gradebook.csv`` (a
row per submission, a column per topic, the topics not attempted apart from real errors) and ``summary.md``/
``summary.json`` (the score distribution, the checks most often failed, the topics not attempted, the mistakes most
often named, submissions with the same code, a link to each submission's report). Class files and submissions live
apart, so no submission's name can take a class file's place. No result shows the temporary folder a zip or notebook
is graded in: a file inside ``<name>.zip`` is ``<name>.zip:inner/path``.
A submission that cannot be graded (an unsafe zip, no topic file) gets a failure row and is tried again on every run;
one that crashes, hangs or exhausts memory fails its checks like any other; one whose results cannot be read back gets
a row that says so: the class files are written whatever one submission did. A check the grader could not judge
(starved of CPU by a busy machine, or a broken check) is named in the row and graded again on the next run. A lock file
keeps a second batch out of the same results folder.
Grading is for credit, so the process sandbox (no file-system isolation) is refused unless asked for.
Each entry is read once into bytes (entry.Content) and graded from them, here by one Grader in ``--jobs`` threads or,
with ``--cluster``, on a Dask cluster's workers (autograder.cluster); either way this process writes the results.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence
from urllib.parse import quote

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as Bar

from . import __version__
from .course.config import Course, load_course, locate_course
from .engine.results import NOT_ATTEMPTED
from .entry import FILES, Entry, Graded, Outcome, code_fingerprint, course_digest, digest_of, entries, for_credit, grade_entry
from .errors import ClusterLost, ResultsUnwritable, UsageError
from .reports.output import to_json, write_atomically
from .reports.renderers import FORMATS

__all__ = ["main"]

REPORTS = ("html", "text")  # the first of these that is written is the one summary.md links to
DONE = "batch.json"
SUBMISSIONS = "submissions"  # RESULTS/submissions/<name>/: apart from the class files at RESULTS/


def secret_digest(secret: bytes | None) -> str | None:
    """A slow hash: results folders are copied around, and a short secret should not be found from its digest."""
    return None if secret is None else hashlib.pbkdf2_hmac("sha256", secret, b"autograder batch cache key", 100_000).hex()


# The parts of a result's cache key, in the order a change is named, with what a changed part is called.
KEY = {"submission": "submission changed", "topics": "topics changed", "devices": "devices changed", "course": "course changed", "secret": "secret changed", "grader": "grader version changed"}


def stale(record: dict[str, Any] | None, key: dict[str, Any]) -> str | None:
    """Why ``record`` does not stand for its entry under ``key`` (so it is graded again); None when it does."""
    if record is None:
        return "new"
    if record["status"] != "graded":
        return "failed last time"  # a notebook graded without --topic, a grader that failed: no verdict to keep
    if record.get("retry"):
        return "grader error last time"
    old = record.get("key")
    if not isinstance(old, dict):
        return KEY["grader"]  # written before results carried their key
    return next((why for part, why in KEY.items() if old.get(part) != key[part]), None)


def results_folder(results: Path, name: str) -> Path:
    """Where one submission's results go."""
    return results / SUBMISSIONS / name


def store(*, results: Path, graded: Graded, common: dict[str, Any]) -> None:
    """Write one entry's results under its cache key (``common`` and the digest of what was graded); raises
    ResultsUnwritable only. A submission whose results could not all be written has no DONE record: the next run
    grades it again."""
    folder = results_folder(results, graded.outcome.name)
    record = {**graded.outcome.__dict__, "key": {**common, "submission": graded.digest}, "fingerprints": graded.fingerprints, "retry": graded.retry}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for filename, text in graded.rendered.items():
            write_atomically(folder / filename, text)
        write_atomically(folder / DONE, to_json(record, sort_keys=True))  # last: marks it done
    except OSError as exc:
        raise ResultsUnwritable(f"{folder}: cannot write the results ({exc.strerror or exc})") from None


_RECORD_KEYS = {"name": str, "status": str, "points": dict, "max_points": dict}


def _record(results: Path, name: str) -> dict[str, Any] | None:
    """The DONE record of ``name``, or None where it is missing or not one this grader wrote."""
    try:
        record = json.loads((results_folder(results, name) / DONE).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(record, dict) or any(not isinstance(record.get(k), t) for k, t in _RECORD_KEYS.items()):
        return None
    if not all(isinstance(v, (int, float)) for part in ("points", "max_points") for v in record[part].values()):
        return None
    return record


# ---- progress ---------------------------------------------------------------------------------------------------


class Progress:
    """A live rich bar on a terminal (done/total, elapsed time, the last graded submission and its score); one plain
    line per graded submission otherwise (a CI log, a test). NO_COLOR is honoured by rich."""

    def __init__(self, *, total: int, stream: Any):
        self.total, self.done, self.failed = total, 0, 0
        self.console = Console(file=stream)
        self.bar = None
        if self.console.is_terminal:
            columns = [TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[last]}", markup=False)]
            self.bar = Bar(*columns, console=self.console)
            self.task = self.bar.add_task("grading", total=total, last="")

    def __enter__(self) -> Progress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """End the live bar (before anything else is written to the stream); again is harmless."""
        if self.bar is not None:
            self.bar.stop()

    def update(self, outcome: Outcome) -> None:
        self.done += 1
        self.failed += outcome.status != "graded"
        if self.bar is not None:
            score = _score(outcome) if outcome.status == "graded" else "failed"
            self.bar.update(self.task, advance=1, last=f"{outcome.name}: {score}" + (f" ({self.failed} failed)" if self.failed else ""))
            return
        what = _score(outcome) if outcome.status == "graded" else f"failed: {outcome.error}"
        counts = f"{self.done}/{self.total} graded" + (f", {self.failed} failed" if self.failed else "")
        self.console.print(f"[{counts}] {outcome.name}: {what} ({outcome.seconds:.1f} s)", markup=False, emoji=False, highlight=False, soft_wrap=True)


def _score(outcome: Outcome) -> str:
    return f"{sum(outcome.points.values()):g}/{sum(outcome.max_points.values()):g}"


# ---- the class files --------------------------------------------------------------------------------------------


def _records(results: Path, keys: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """A record per name (``keys``: name -> its cache key in this run); one that cannot be read back, or that holds
    another run's results, becomes a failure row: the class files are always written, and never from stale results."""
    unreadable = "its results are missing or unreadable: run the same command again to grade it again"
    out_of_date = "its results are from another run (another key): run the same command again to grade it again"
    rows = []
    for name, key in keys.items():
        record = _record(results, name)
        if record is None or record.get("key") != key:
            record = {"name": name, "status": "failed", "error": f"{name}: {unreadable if record is None else out_of_date}", "points": {}, "max_points": {}}
        rows.append(record)
    return rows


def _total(record: dict[str, Any], topics: Sequence[str]) -> tuple[float, float]:
    """Points and maximum over the topics of this run."""
    if record["status"] != "graded":
        return 0.0, 0.0
    return sum(record["points"].get(t, 0) for t in topics), sum(record["max_points"].get(t, 0) for t in topics)


def write_gradebook(*, results: Path, records: list[dict[str, Any]], topics: Sequence[str]) -> None:
    """A row per submission: points per topic, total and maximum, the topics not attempted (no file, or the stub
    untouched) apart from the errors (an attempted topic that could not be graded, a failure to grade at all)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["submission", *topics, "total", "max", "status", "not_attempted", "error"])
    for r in records:
        points = [f"{r['points'].get(t, 0):g}" if r["status"] == "graded" else "0" for t in topics]
        total, maximum = _total(r, topics)
        writer.writerow([r["name"], *points, f"{total:g}", f"{maximum:g}", r["status"], " ".join(r.get("not_attempted") or []), r.get("error") or "; ".join(r.get("problems") or [])])
    write_atomically(results / "gradebook.csv", out.getvalue())


def report_link(name: str) -> str | None:
    """The report summary.md links to for a graded submission, relative to the results folder."""
    fmt = next((f for f in REPORTS if f in FORMATS), None)
    return None if fmt is None else f"{SUBMISSIONS}/{name}/{FILES[fmt]}"


def summarize(*, results: Path, records: list[dict[str, Any]], topics: Sequence[str], ignore: dict[str, str]) -> dict[str, Any]:
    """``ignore``: topic -> the code fingerprint of its stub (everyone who submits it untouched has the same code).
    A check not attempted is no failure: untouched topics are counted apart, per topic."""
    graded = [r for r in records if r["status"] == "graded"]
    totals = sorted(_total(r, topics)[0] for r in graded)
    maximum = max((_total(r, topics)[1] for r in graded), default=0)
    failed_checks: Counter[str] = Counter()
    mistakes: Counter[str] = Counter()
    untouched = Counter(t for r in graded for t in r.get("not_attempted") or [])
    for r in graded:
        try:
            report = json.loads((results_folder(results, r["name"]) / "results.json").read_text(encoding="utf-8"))
            failed = [f"{topic['id']}.{c['id']}" for topic in report["topics"] for c in topic["checks"] if c["status"] not in ("passed", NOT_ATTEMPTED)]
            named = {f"{c['mistake']['id']}: {c['mistake']['title']}" for topic in report["topics"] for c in topic["checks"] if c.get("mistake")}
        except (OSError, ValueError, RecursionError, KeyError, TypeError):
            continue  # its gradebook row stands; only the summary's counts miss it
        failed_checks.update(failed)
        mistakes.update(named)  # a submission counts once per mistake, however many checks name it
    same: dict[tuple[str, str, str], list[str]] = {}
    for r in graded:
        for topic, prints in sorted(r.get("fingerprints", {}).items()):
            if ignore.get(topic) == prints["code"]:
                continue
            same.setdefault((topic, prints["code"], prints["bytes"]), []).append(r["name"])
    by_code: dict[tuple[str, str], list[tuple[str, list[str]]]] = {}
    for (topic, code, raw), names in same.items():
        by_code.setdefault((topic, code), []).append((raw, names))
    duplicates = []
    for (topic, _), groups in sorted(by_code.items()):
        names = sorted(n for _, ns in groups for n in ns)
        if len(names) > 1:
            duplicates.append({"topic": topic, "submissions": names, "identical": "byte-identical" if len(groups) == 1 else "identical up to whitespace and comments"})
    buckets = [0] * 10
    for total in totals:
        buckets[min(int(10 * total / maximum), 9) if maximum else 0] += 1
    return {
        "submissions": len(records),
        "graded": len(graded),
        "failed": [{"submission": r["name"], "error": r["error"]} for r in records if r["status"] != "graded"],
        "max_points": maximum,
        "scores": {
            "mean": sum(totals) / len(totals) if totals else None,
            "median": (totals[(len(totals) - 1) // 2] + totals[len(totals) // 2]) / 2 if totals else None,
            "min": totals[0] if totals else None,
            "max": totals[-1] if totals else None,
            "histogram": [{"from_percent": 10 * i, "to_percent": 10 * (i + 1), "count": n} for i, n in enumerate(buckets)],
        },
        "most_failed_checks": [{"check": c, "failed": n} for c, n in failed_checks.most_common(10)],
        "not_attempted": [{"topic": t, "submissions": untouched[t]} for t in topics if untouched[t]],
        "most_named_mistakes": [{"mistake": m, "submissions": n} for m, n in mistakes.most_common(10)],
        "same_code": duplicates,
        "reports": [{"submission": r["name"], "points": total, "max_points": maximum, "report": report_link(r["name"])} for r in graded for total, maximum in [_total(r, topics)]],
    }


def _markdown(summary: dict[str, Any]) -> str:
    s = summary["scores"]
    lines = [f"# Batch summary: {summary['graded']} of {summary['submissions']} submissions graded", ""]
    if s["mean"] is not None:
        lines += [f"Scores out of {summary['max_points']:g}: mean {s['mean']:.2f}, median {s['median']:g}, min {s['min']:g}, max {s['max']:g}", "", "| score | submissions |", "| --- | --- |"]
        width = max(b["count"] for b in s["histogram"]) or 1
        lines += [f"| {b['from_percent']}-{b['to_percent']}% | {'#' * round(20 * b['count'] / width)} {b['count']} |" for b in s["histogram"]]
    lines += ["", "## Checks most often failed", ""] + ([f"- {r['check']}: {r['failed']}" for r in summary["most_failed_checks"]] or ["- none"])
    lines += ["", "## Topics not attempted", ""] + ([f"- {r['topic']}: not attempted by {r['submissions']} submission{'s' * (r['submissions'] != 1)}" for r in summary["not_attempted"]] or ["- none"])
    lines += ["", "## Mistakes most often named (submissions)", ""] + ([f"- {r['mistake']}: {r['submissions']}" for r in summary["most_named_mistakes"]] or ["- none"])
    lines += ["", "## Submissions with the same code", ""] + ([f"- {d['topic']}: {', '.join(d['submissions'])} ({d['identical']})" for d in summary["same_code"]] or ["- none"])
    lines += ["", "## Reports", ""] + ([_linked(r) for r in summary["reports"]] or ["- none"])
    lines += ["", "## Not graded", ""] + ([f"- {f['submission']}: {f['error']}" for f in summary["failed"]] or ["- none"])
    return "\n".join(lines) + "\n"


def _linked(row: dict[str, Any]) -> str:
    name = re.sub(r"([\\`*_\[\]<>])", r"\\\1", row["submission"])  # a file name is not markdown
    score = f"{row['points']:g}/{row['max_points']:g}"
    return f"- [{name}]({quote(row['report'], errors='surrogateescape')}): {score}" if row["report"] else f"- {name}: {score}"


# ---- the command ------------------------------------------------------------------------------------------------


@contextmanager
def locked(results: Path) -> Iterator[None]:
    """One batch per results folder: a second one is refused, not interleaved."""
    try:
        results.mkdir(parents=True, exist_ok=True)
        lock = open(results / ".lock", "a+")
    except OSError as exc:
        raise ResultsUnwritable(f"--out {results}: cannot write the results there ({exc.strerror or exc})") from None
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks in the stdlib's portable set; one batch at a time is on the user
        yield
        lock.close()
        return
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.seek(0)
        holder = lock.read().strip() or "another process"
        lock.close()
        raise UsageError(f"{results}: another grade batch ({holder}) is writing these results; wait for it or choose another --out") from None
    lock.seek(0)
    lock.truncate()
    lock.write(f"pid {os.getpid()}")
    lock.flush()
    try:
        yield
    finally:
        lock.close()


def _reasons(reasons: Counter[str | None]) -> str:
    """Why the entries to grade are graded: nothing to say when all are new; the reason alone when there is one."""
    if not reasons or set(reasons) == {"new"}:
        return ""
    if len(reasons) == 1:
        return f" ({next(iter(reasons))})"
    order = ["new", "failed last time", "grader error last time", *KEY.values()]
    return " (" + "; ".join(f"{why}: {reasons[why]}" for why in order if reasons[why]) + ")"


class _Local:
    """Grading on this machine: one Grader, ``jobs`` submissions at a time, each read and graded in a thread."""

    notes: tuple[str, ...] = ()

    def __init__(self, *, grader: Any, jobs: int, course: Course, topics: Sequence[str]):
        self.grader, self.jobs, self.course, self.topics = grader, jobs, course, topics

    def graded(self, todo: Sequence[Entry]) -> Iterator[Graded]:
        """Each entry's grading, as each is done."""
        pool = ThreadPoolExecutor(max_workers=self.jobs)
        try:
            futures = [pool.submit(grade_entry, grader=self.grader, entry=e, course=self.course, topics=self.topics) for e in todo]
            for future in as_completed(futures):
                yield future.result()
        finally:  # interrupted, or the results cannot be written: nothing more is started
            pool.shutdown(wait=False, cancel_futures=True)


@contextmanager
def _on_this_machine(*, course: Course, sandbox: str, devices: list[str], hide: list[Path], allow_process: bool, jobs: int | None, topics: Sequence[str]) -> Iterator[_Local]:
    from .engine.grading import Grader, default_jobs

    with Grader(course=course, sandbox=sandbox, devices=devices, hide=hide) as grader:
        for_credit(grader, allow_process=allow_process)
        yield _Local(grader=grader, jobs=jobs or default_jobs(), course=course, topics=topics)


def main(*, submissions: Path, out: Path, topics: Sequence[str], jobs: int | None, device: str, sandbox: str, course: Path | None, allow_process: bool = False, cluster: str | None = None, stream: Any = None) -> int:
    """Grade every entry of ``submissions`` into ``out``; ``allow_process``: grade even where only the process sandbox
    is available (or asked for); ``cluster``: on a Dask cluster (its scheduler's address, or ``local:N``) instead of
    this machine's cores."""
    stream = stream or sys.stderr
    course_obj = load_course(locate_course(course, submissions))
    for topic in topics:
        course_obj.topic(topic)
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs {jobs}: expected at least 1")
    if out.resolve() == submissions.resolve() or submissions.resolve() in out.resolve().parents:
        raise UsageError(f"--out {out}: inside the submissions folder; results would be graded as submissions")
    if cluster is not None:
        from .cluster import client as cluster_client

        address = cluster_client.parse(cluster, jobs=jobs, device=device)
        devices = cluster_client.DEVICES[device]
    else:
        from .engine.grading import resolve_devices

        devices = resolve_devices(device)
    found = entries(submissions)
    graded_topics = list(topics) or [t.id for t in course_obj.topics]
    common = {"topics": graded_topics, "devices": devices, "course": course_digest(course=course_obj, topics=graded_topics), "secret": secret_digest(course_obj.secret()), "grader": __version__}
    keys = {e.name: {**common, "submission": digest_of(e)} for e in found}
    with locked(out):
        why = {e.name: stale(_record(out, e.name), keys[e.name]) for e in found}
        todo = [e for e in found if why[e.name] is not None]
        internal = 0
        if cluster is not None:
            grading = cluster_client.on_cluster(address, course=course_obj, sandbox=sandbox, devices=devices, allow_process=allow_process, topics=topics, course_digest=common["course"])
        else:  # a strict worker's root holds none of the submissions (it gets its code in the request) nor the results
            grading = _on_this_machine(course=course_obj, sandbox=sandbox, devices=devices, hide=[out.resolve()], allow_process=allow_process, jobs=jobs, topics=topics)
        with grading as where_graded:
            stream.write(f"{len(found)} submissions in {submissions}: {len(found) - len(todo)} already graded, {len(todo)} to grade{_reasons(Counter(why[e.name] for e in todo))}\n")
            for note in where_graded.notes:
                stream.write(f"{note}\n")
            with Progress(total=len(todo), stream=stream) as progress:
                try:
                    for graded in where_graded.graded(todo):
                        store(results=out, graded=graded, common=common)
                        internal += graded.outcome.internal_errors
                        progress.update(graded.outcome)
                except KeyboardInterrupt:
                    progress.stop()
                    stream.write(f"\ninterrupted: {progress.done} of {len(todo)} graded and kept; run the same command again to grade the rest\n")
                    return 130
                except ClusterLost as exc:
                    progress.stop()
                    raise ClusterLost(f"{exc}; {progress.done} of {len(todo)} graded and kept; run the same command again to grade the rest") from None
                except ResultsUnwritable as exc:
                    progress.stop()
                    kept = sum(stale(_record(out, e.name), keys[e.name]) is None for e in todo)
                    raise ResultsUnwritable(f"{exc}; {kept} of {len(todo)} graded and kept; make room (or make it writable) and run the same command again to grade the rest") from None
        records = _records(out, keys)
        stubs = {t.id: code_fingerprint(t.stub.read_text(encoding="utf-8")) for t in course_obj.topics if t.stub.is_file()}
        summary = summarize(results=out, records=records, topics=graded_topics, ignore=stubs)
        try:
            write_gradebook(results=out, records=records, topics=graded_topics)
            write_atomically(out / "summary.json", to_json(summary))
            write_atomically(out / "summary.md", _markdown(summary))
        except OSError as exc:
            raise ResultsUnwritable(f"{out}: cannot write the gradebook and summary ({exc.strerror or exc}); every submission is graded and kept: run the same command again to write them") from None
    stream.write(f"gradebook: {out / 'gradebook.csv'}; summary: {out / 'summary.md'}\n")
    return 3 if internal else 4 if any(r["status"] != "graded" for r in records) else 0
