"""``grade batch``: grade a class, one submission per entry, with nothing lost on the way.

``SUBMISSIONS/<name>/`` is a folder laid out like exercises/ (topic files at any depth: the shallowest folder that
holds one counts), ``<name>.zip`` the same zipped, ``<name>.ipynb`` one topic's notebook (with one ``--topic``).
Each submission's results land in ``RESULTS/submissions/<name>/`` in every format, written atomically as soon as it is
graded; ``batch.json`` is written last and marks it done with the digest of what was graded. Run again after an
interruption (or with new submissions), a batch grades only what is missing or changed, then rewrites the class files
from all results: ``RESULTS/gradebook.csv`` (a row per submission, a column per topic) and ``summary.md``/
``summary.json`` (the score distribution, the checks most often failed, the mistakes most often named, submissions with
the same code). Class files and submissions live apart, so no submission's name can take a class file's place.
A submission that cannot be graded (an unsafe zip, no topic file) gets a failure row; one that crashes, hangs or
exhausts memory fails its checks like any other; one whose results cannot be read back gets a row that says so: the
class files are written whatever one submission did. A check the grader could not judge (starved of CPU by a busy
machine, or a broken check) is named in the row and graded again on the next run. A lock file keeps a second batch out of the same results folder.
Grading is for credit, so the process sandbox (no file-system isolation) is refused unless asked for.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sys
import tempfile
import time
import tokenize
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from .course.config import Course, load_course, locate_course
from .course.submission import Submission, find_topic_folder
from .engine.results import ERROR, Report
from .errors import GraderError, ResultsUnwritable, SandboxUnavailable, UsageError
from .reports.output import to_json, write_atomically

__all__ = ["main"]

FORMATS = {"report.txt": "text", "results.json": "json", "gradescope.json": "gradescope", "junit.xml": "junit"}
DONE = "batch.json"
SUBMISSIONS = "submissions"  # RESULTS/submissions/<name>/: apart from the class files at RESULTS/
MAX_ZIP_BYTES = 64 << 20  # uncompressed; a submission is a few source files
MAX_ZIP_RATIO = 200  # a zip that expands more than this is refused before it is expanded
MAX_ZIP_FILES = 1000


@dataclass(frozen=True)
class Entry:
    name: str  # the results folder's name
    path: Path


def entries(folder: Path) -> list[Entry]:
    """The submissions in ``folder``, sorted by name: subfolders, .zip files and .ipynb files."""
    found = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_symlink():
            continue
        if path.is_dir() or path.suffix in (".zip", ".ipynb"):
            found.append(Entry(path.stem if path.is_file() else path.name, path))
    names = Counter(e.name for e in found)
    clashes = sorted(n for n, k in names.items() if k > 1)
    if clashes:
        raise UsageError(f"{folder}: {', '.join(clashes)}: more than one submission per name (a folder and a .zip?)")
    return found


def digest(path: Path) -> str:
    """What was graded: every file under ``path`` (name and bytes), so a changed submission is graded again."""
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    for file in files:
        h.update(str(file.relative_to(path) if path.is_dir() else file.name).encode() + b"\0")
        h.update(file.read_bytes() + b"\0")
    return h.hexdigest()


def results_folder(results: Path, name: str) -> Path:
    """Where one submission's results go."""
    return results / SUBMISSIONS / name


def _topic_folder(root: Path, course: Course, topics: Sequence[str]) -> Path:
    return find_topic_folder(root, topics or [t.id for t in course.topics])


def _unzip(path: Path, into: Path) -> None:
    """Extract a student's zip, refusing paths that leave it, links, and sizes a submission never has."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UsageError(f"not a zip file ({exc})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_FILES:
            raise UsageError(f"{len(infos)} entries; a submission has at most {MAX_ZIP_FILES}")
        total = sum(i.file_size for i in infos)
        packed = max(sum(i.compress_size for i in infos), 1)
        if total > MAX_ZIP_BYTES or total > 1 << 20 and total / packed > MAX_ZIP_RATIO:
            raise UsageError(f"expands to {total} bytes ({total / packed:.0f}-fold); the limits are {MAX_ZIP_BYTES} bytes and {MAX_ZIP_RATIO}-fold")
        for info in infos:
            parts = Path(info.filename).parts
            if info.filename.startswith(("/", "\\")) or ".." in parts or ":" in info.filename:
                raise UsageError(f"entry {info.filename!r} points outside the zip")
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise UsageError(f"entry {info.filename!r} is a symbolic link")
            if not [p for p in parts if p not in (".", "")]:
                raise UsageError(f"entry {info.filename!r} names no file")
        try:
            archive.extractall(into)
        except (OSError, zipfile.BadZipFile, ValueError) as exc:  # duplicate or clashing names, bad CRC, ...
            raise UsageError(f"cannot be extracted ({type(exc).__name__}: {exc})") from None


@contextmanager
def opened(entry: Entry, course: Course, topics: Sequence[str]) -> Iterator[Submission]:
    """The entry as a Submission (a zip is extracted to a temporary folder for the duration)."""
    if entry.path.suffix == ".ipynb":
        only = list(topics) or ([course.topics[0].id] if len(course.topics) == 1 else [])
        if len(only) != 1:
            raise UsageError("a notebook is one topic's submission: pass exactly one --topic")
        with tempfile.TemporaryDirectory(prefix="grade-batch-") as tmp:
            target = Path(tmp) / f"{only[0]}.ipynb"
            target.write_bytes(entry.path.read_bytes())
            yield Submission.from_path(target, course)
        return
    if entry.path.suffix == ".zip":
        with tempfile.TemporaryDirectory(prefix="grade-batch-") as tmp:
            _unzip(entry.path, Path(tmp))
            yield Submission.from_path(_topic_folder(Path(tmp), course, topics), course)
        return
    yield Submission.from_path(_topic_folder(entry.path, course, topics), course)


def normalized(text: str) -> str:
    """The code without comments, blank lines and layout: two submissions equal here differ in nothing that runs."""
    try:
        tokens = tokenize.generate_tokens(io.StringIO(text).readline)
        kept = [t.string for t in tokens if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return " ".join(text.split())
    return " ".join(kept)


# ---- grading ----------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    name: str
    status: str  # graded | failed (could not be graded: see error)
    error: str | None
    seconds: float
    points: dict[str, float]  # topic -> points
    max_points: dict[str, float]
    internal_errors: int = 0
    problems: list[str] | None = None  # topics graded 0 as a whole (an import that crashed, a file missing)


def _rendered(report: Report) -> dict[str, str]:
    """Every format, rendered before anything is written: a report that cannot be rendered leaves no partial files."""
    from .reports.renderers import render

    return {filename: render(report, fmt) for filename, fmt in FORMATS.items()}


def grade_one(*, grader: Any, entry: Entry, course: Course, topics: Sequence[str], results: Path) -> Outcome:
    """Grade one entry and write its results; raises ResultsUnwritable only (anything else is that entry's row)."""
    start = time.perf_counter()
    folder = results_folder(results, entry.name)
    fingerprints: dict[str, dict[str, str]] = {}
    report, retry = None, False
    try:
        with opened(entry, course, topics) as submission:
            report = grader.grade(submission, topics=list(topics) or None)
            for topic, source in submission.sources.items():
                if source.text is not None:
                    fingerprints[topic] = {"bytes": hashlib.sha256(source.text.encode()).hexdigest(), "code": code_fingerprint(source.text)}
        problems = [f"{t.id}: {t.error.splitlines()[0]}" for t in report.topics if t.error]
        problems += [f"{t.id}.{c.id}: not graded (grader error): run the same command again" for t in report.topics for c in t.checks if c.status == ERROR]
        outcome = Outcome(entry.name, "graded", None, time.perf_counter() - start, {t.id: t.points for t in report.topics}, {t.id: t.max_points for t in report.topics}, len(report.internal_errors), problems)
        retry = bool(report.internal_errors)  # a check the grader could not judge (a busy machine, a broken check) is no verdict
    except GraderError as exc:
        outcome = Outcome(entry.name, "failed", f"{entry.path.name}: {exc}", time.perf_counter() - start, {}, {})
    except Exception as exc:  # noqa: BLE001 - one submission's failure must not end the batch
        outcome = Outcome(entry.name, "failed", f"{entry.path.name}: the grader failed ({type(exc).__name__}: {exc})", time.perf_counter() - start, {}, {})
        retry = True  # the grader's own failure is no verdict on the submission: the next run grades it again
    rendered: dict[str, str] = {}
    if report is not None:
        try:
            rendered = _rendered(report)
        except Exception as exc:  # noqa: BLE001 - the grader's fault: a failure row, graded again next run
            outcome = Outcome(entry.name, "failed", f"{entry.path.name}: the grader could not write its report ({type(exc).__name__}: {exc})", outcome.seconds, {}, {})
            retry = True
    record = {**outcome.__dict__, "digest": digest(entry.path), "fingerprints": fingerprints, "retry": retry}
    try:  # a submission whose results could not all be written has no DONE record: the next run grades it again
        folder.mkdir(parents=True, exist_ok=True)
        for filename, text in rendered.items():
            write_atomically(folder / filename, text)
        write_atomically(folder / DONE, to_json(record, sort_keys=True))  # last: marks it done
    except OSError as exc:
        raise ResultsUnwritable(f"{folder}: cannot write the results ({exc.strerror or exc})") from None
    return outcome


def _done(results: Path, entry: Entry) -> dict[str, Any] | None:
    record = _record(results, entry.name)
    return record if record is not None and record.get("digest") == digest(entry.path) and not record.get("retry") else None


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
    """A live bar on a terminal; one line per submission otherwise (a CI log)."""

    def __init__(self, total: int, stream: Any = sys.stderr):
        self.total, self.done, self.failed, self.stream = total, 0, 0, stream
        self.start = time.monotonic()
        self.live = hasattr(stream, "isatty") and stream.isatty()

    def update(self, outcome: Outcome) -> None:
        self.done += 1
        self.failed += outcome.status != "graded"
        elapsed = time.monotonic() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate else 0.0
        counts = f"{self.done}/{self.total} graded" + (f", {self.failed} failed" if self.failed else "")
        if self.live:
            filled = int(30 * self.done / max(self.total, 1))
            self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {counts}  {rate:.2f}/s  ETA {eta:4.0f} s ")
            if self.done == self.total:
                self.stream.write("\n")
        else:
            what = f"{sum(outcome.points.values()):g}/{sum(outcome.max_points.values()):g}" if outcome.status == "graded" else f"failed: {outcome.error}"
            self.stream.write(f"[{counts}] {outcome.name}: {what} ({outcome.seconds:.1f} s; {rate:.2f}/s, ETA {eta:.0f} s)\n")
        self.stream.flush()


# ---- the class files --------------------------------------------------------------------------------------------


def _records(results: Path, names: Sequence[str]) -> list[dict[str, Any]]:
    """A record per name; one that cannot be read back becomes a failure row, so the class files are always written."""
    unreadable = "its results are missing or unreadable: run the same command again to grade it again"
    return [_record(results, n) or {"name": n, "status": "failed", "error": f"{n}: {unreadable}", "points": {}, "max_points": {}} for n in names]


def write_gradebook(results: Path, records: list[dict[str, Any]], topics: Sequence[str]) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["submission", *topics, "total", "max", "status", "error"])
    for r in records:
        points = [f"{r['points'].get(t, 0):g}" if r["status"] == "graded" else "0" for t in topics]
        maximum = sum(r["max_points"].values()) if r["status"] == "graded" else 0
        writer.writerow([r["name"], *points, f"{sum(r['points'].values()):g}", f"{maximum:g}", r["status"], r.get("error") or "; ".join(r.get("problems") or [])])
    write_atomically(results / "gradebook.csv", out.getvalue())


def code_fingerprint(text: str) -> str:
    return hashlib.sha256(normalized(text).encode()).hexdigest()


def summarize(results: Path, records: list[dict[str, Any]], *, ignore: dict[str, str]) -> dict[str, Any]:
    """``ignore``: topic -> the code fingerprint of its stub (everyone who submits it untouched has the same code)."""
    graded = [r for r in records if r["status"] == "graded"]
    totals = sorted(sum(r["points"].values()) for r in graded)
    maximum = max((sum(r["max_points"].values()) for r in graded), default=0)
    failed_checks: Counter[str] = Counter()
    mistakes: Counter[str] = Counter()
    for r in graded:
        try:
            report = json.loads((results_folder(results, r["name"]) / "results.json").read_text(encoding="utf-8"))
            failed = [f"{topic['id']}.{c['id']}" for topic in report["topics"] for c in topic["checks"] if c["status"] != "passed"]
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
        "most_named_mistakes": [{"mistake": m, "submissions": n} for m, n in mistakes.most_common(10)],
        "same_code": duplicates,
    }


def _markdown(summary: dict[str, Any]) -> str:
    s = summary["scores"]
    lines = [f"# Batch summary: {summary['graded']} of {summary['submissions']} submissions graded", ""]
    if s["mean"] is not None:
        lines += [f"Scores out of {summary['max_points']:g}: mean {s['mean']:.2f}, median {s['median']:g}, min {s['min']:g}, max {s['max']:g}", "", "| score | submissions |", "| --- | --- |"]
        width = max(b["count"] for b in s["histogram"]) or 1
        lines += [f"| {b['from_percent']}-{b['to_percent']}% | {'#' * round(20 * b['count'] / width)} {b['count']} |" for b in s["histogram"]]
    for title, rows, key, count in (("Checks most often failed", summary["most_failed_checks"], "check", "failed"), ("Mistakes most often named (submissions)", summary["most_named_mistakes"], "mistake", "submissions")):
        lines += ["", f"## {title}", ""] + ([f"- {r[key]}: {r[count]}" for r in rows] or ["- none"])
    lines += ["", "## Submissions with the same code", ""] + ([f"- {d['topic']}: {', '.join(d['submissions'])} ({d['identical']})" for d in summary["same_code"]] or ["- none"])
    lines += ["", "## Not graded", ""] + ([f"- {f['submission']}: {f['error']}" for f in summary["failed"]] or ["- none"])
    return "\n".join(lines) + "\n"


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


PROCESS_REFUSED = (
    "grade batch grades for credit, and the process sandbox would let a submission read what this user can read (other"
    " submissions, the course's solutions), use the network and outlive its check; run as root on Linux for the strict"
    " sandbox, or pass --allow-process-sandbox to grade with reduced isolation anyway"
)


def main(*, submissions: Path, out: Path, topics: Sequence[str], jobs: int | None, device: str, sandbox: str, course: Path | None, allow_process: bool = False, stream: Any = None) -> int:
    """Grade every entry of ``submissions`` into ``out``; ``allow_process``: grade even where only the process sandbox
    is available (or asked for)."""
    from .engine.grading import Grader, default_jobs, resolve_devices
    from .sandbox.confinement import PROCESS

    stream = stream or sys.stderr
    course_obj = load_course(locate_course(course, submissions))
    for topic in topics:
        course_obj.topic(topic)
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs {jobs}: expected at least 1")
    if out.resolve() == submissions.resolve() or submissions.resolve() in out.resolve().parents:
        raise UsageError(f"--out {out}: inside the submissions folder; results would be graded as submissions")
    found = entries(submissions)
    graded_topics = list(topics) or [t.id for t in course_obj.topics]
    with locked(out):
        todo = [e for e in found if _done(out, e) is None]
        internal = 0
        # A strict worker's root holds none of the submissions (it gets its code in the request) nor the results.
        with Grader(course=course_obj, sandbox=sandbox, devices=resolve_devices(device), hide=[out.resolve()]) as grader:
            if grader.mode == PROCESS and not allow_process:
                raise SandboxUnavailable(f"{PROCESS_REFUSED} (strict is not in force: {grader.mode_reason})")
            stream.write(f"{len(found)} submissions in {submissions}: {len(found) - len(todo)} already graded, {len(todo)} to grade\n")
            progress = Progress(len(todo), stream)
            with ThreadPoolExecutor(max_workers=jobs or default_jobs()) as pool:
                futures = [pool.submit(grade_one, grader=grader, entry=e, course=course_obj, topics=topics, results=out) for e in todo]
                try:
                    for future in as_completed(futures):
                        outcome = future.result()
                        internal += outcome.internal_errors
                        progress.update(outcome)
                except KeyboardInterrupt:
                    pool.shutdown(wait=False, cancel_futures=True)
                    stream.write(f"\ninterrupted: {progress.done} of {len(todo)} graded and kept; run the same command again to grade the rest\n")
                    return 130
                except ResultsUnwritable as exc:
                    pool.shutdown(wait=True, cancel_futures=True)
                    kept = sum(_done(out, e) is not None for e in todo)
                    raise ResultsUnwritable(f"{exc}; {kept} of {len(todo)} graded and kept; make room (or make it writable) and run the same command again to grade the rest") from None
        records = _records(out, [e.name for e in found])
        stubs = {t.id: code_fingerprint(t.stub.read_text(encoding="utf-8")) for t in course_obj.topics if t.stub.is_file()}
        summary = summarize(out, records, ignore=stubs)
        try:
            write_gradebook(out, records, graded_topics)
            write_atomically(out / "summary.json", to_json(summary))
            write_atomically(out / "summary.md", _markdown(summary))
        except OSError as exc:
            raise ResultsUnwritable(f"{out}: cannot write the gradebook and summary ({exc.strerror or exc}); every submission is graded and kept: run the same command again to write them") from None
    stream.write(f"gradebook: {out / 'gradebook.csv'}; summary: {out / 'summary.md'}\n")
    return 3 if internal else 0
