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
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import re
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
from typing import Any, Callable, Iterator, Sequence
from urllib.parse import quote

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as Bar

from . import __version__
from .course.config import RECORDED, Course, load_course, locate_course
from .course.notebooks import NotebookError, topic_of_notebook
from .course.submission import Submission, find_topic_folder
from .engine.results import ERROR, NOT_ATTEMPTED, Report, TopicResult
from .errors import GraderError, ResultsUnwritable, SandboxUnavailable, UsageError
from .reports.output import to_json, write_atomically
from .reports.renderers import FORMATS, render

__all__ = ["main"]

# The file each report format is written to per submission, for the formats the renderers offer; markdown is left
# out (summary.md is the class's). The first of REPORTS that is written is the one summary.md links to.
FILES = {"text": "report.txt", "json": "results.json", "gradescope": "gradescope.json", "junit": "junit.xml", "html": "report.html"}
REPORTS = ("html", "text")
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


def course_digest(*, course: Course, topics: Sequence[str]) -> str:
    """What a result owes to the course: course.yaml, and each graded topic's check files and reference (by name and
    bytes, so the same course copied elsewhere has the same digest)."""
    h = hashlib.sha256()
    files = [course.path]
    for topic in map(course.topic, topics):
        files += [topic.public_checks, topic.hidden_checks, topic.answers if course.reference == RECORDED else topic.solution]
    for file in files:
        h.update(os.path.relpath(file, course.root).encode() + b"\0")
        h.update((file.read_bytes() if file.is_file() else b"(none)") + b"\0")
    return h.hexdigest()


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
        data = entry.path.read_bytes()
        try:  # among the --topic ones, else the course's: the only one, or the one the notebook shows it answers
            topic = topic_of_notebook(data, topics=[course.topic(t) for t in topics] or course.topics, name=entry.path.name)
        except NotebookError as exc:
            raise UsageError(str(exc)) from None
        with tempfile.TemporaryDirectory(prefix="grade-batch-") as tmp:
            target = Path(tmp) / f"{topic}.ipynb"
            target.write_bytes(data)
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


# opened() grades a zip or a notebook in a folder tempfile names grade-batch-*; its path means nothing to the reader.
_TEMP = "|".join(sorted({re.escape(tempfile.gettempdir()), re.escape(os.path.realpath(tempfile.gettempdir()))}))
_ZIP_TEMP = re.compile(rf"(?:{_TEMP})/grade-batch-[\w-]+(/)?")
_FILE_TEMP = re.compile(rf"(?:{_TEMP})/grade-batch-[\w-]+(?:/[\w.-]+)?")  # the folder holds one copy of the file


def shown(entry: Entry) -> Callable[[str], str]:
    """A text with the temporary folder ``entry`` was graded in replaced by the entry: ``<name>.zip:inner/path`` for
    a file inside a zip, the entry's own file name for a notebook's copy."""
    name = entry.path.name
    if entry.path.suffix == ".zip":
        return lambda text: _ZIP_TEMP.sub(lambda m: f"{name}:" if m.group(1) else name, text)
    if entry.path.is_file():
        return lambda text: _FILE_TEMP.sub(name, text)
    return lambda text: text  # a folder is graded where it is


def relocated(value: Any, show: Callable[[str], str]) -> Any:
    """``value`` (a Report, or any part of one) with ``show`` applied to every string in it."""
    if isinstance(value, str):
        return show(value)
    if type(value) in (list, tuple):
        return type(value)(relocated(v, show) for v in value)
    if type(value) is dict:
        return {k: relocated(v, show) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: relocated(getattr(value, f.name), show) for f in dataclasses.fields(value) if f.init})
    return value


def attempted(topic: TopicResult) -> bool:
    """Whether the submission tried the topic: its file is there and not the untouched stub."""
    return any(c.status != NOT_ATTEMPTED for c in topic.checks)


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
    problems: list[str] | None = None  # attempted topics graded 0 as a whole (an import that crashed), grader errors
    not_attempted: list[str] | None = None  # topics with no file, or the untouched stub: no error of the submission's


def _rendered(report: Report) -> dict[str, str]:
    """Every format, rendered before anything is written: a report that cannot be rendered leaves no partial files."""
    return {FILES[fmt]: render(report, fmt) for fmt in FILES if fmt in FORMATS}


def grade_one(*, grader: Any, entry: Entry, course: Course, topics: Sequence[str], results: Path, key: dict[str, Any]) -> Outcome:
    """Grade one entry and write its results under its cache ``key``; raises ResultsUnwritable only (anything else is
    that entry's row)."""
    start = time.perf_counter()
    folder = results_folder(results, entry.name)
    show = shown(entry)
    fingerprints: dict[str, dict[str, str]] = {}
    report, retry = None, False
    try:
        with opened(entry, course, topics) as submission:
            report = relocated(grader.grade(submission, topics=list(topics) or None), show)
            for topic, source in submission.sources.items():
                if source.text is not None:
                    fingerprints[topic] = {"bytes": hashlib.sha256(source.text.encode()).hexdigest(), "code": code_fingerprint(source.text)}
        problems = [f"{t.id}: {_gist(t.error)}" for t in report.topics if t.error and attempted(t)]
        problems += [f"{t.id}.{c.id}: not graded (grader error): run the same command again" for t in report.topics for c in t.checks if c.status == ERROR]
        untouched = [t.id for t in report.topics if not attempted(t)]
        outcome = Outcome(entry.name, "graded", None, time.perf_counter() - start, {t.id: t.points for t in report.topics}, {t.id: t.max_points for t in report.topics}, len(report.internal_errors), problems, untouched)
        retry = bool(report.internal_errors)  # a check the grader could not judge (a busy machine, a broken check) is no verdict
    except GraderError as exc:
        outcome = Outcome(entry.name, "failed", show(f"{entry.path.name}: {exc}"), time.perf_counter() - start, {}, {})
    except Exception as exc:  # noqa: BLE001 - one submission's failure must not end the batch
        outcome = Outcome(entry.name, "failed", show(f"{entry.path.name}: the grader failed ({type(exc).__name__}: {exc})"), time.perf_counter() - start, {}, {})
        retry = True  # the grader's own failure is no verdict on the submission: the next run grades it again
    rendered: dict[str, str] = {}
    if report is not None:
        try:
            rendered = _rendered(report)
        except Exception as exc:  # noqa: BLE001 - the grader's fault: a failure row, graded again next run
            outcome = Outcome(entry.name, "failed", show(f"{entry.path.name}: the grader could not write its report ({type(exc).__name__}: {exc})"), outcome.seconds, {}, {})
            retry = True
    record = {**outcome.__dict__, "key": key, "fingerprints": fingerprints, "retry": retry}
    try:  # a submission whose results could not all be written has no DONE record: the next run grades it again
        folder.mkdir(parents=True, exist_ok=True)
        for filename, text in rendered.items():
            write_atomically(folder / filename, text)
        write_atomically(folder / DONE, to_json(record, sort_keys=True))  # last: marks it done
    except OSError as exc:
        raise ResultsUnwritable(f"{folder}: cannot write the results ({exc.strerror or exc})") from None
    return outcome


_RECORD_KEYS = {"name": str, "status": str, "points": dict, "max_points": dict}


def _gist(error: str) -> str:
    """A topic's error in one line: what failed, and (after a traceback) the exception."""
    lines = [line.strip() for line in error.splitlines() if line.strip()]
    return lines[0] if len(lines) == 1 else f"{lines[0]} {lines[-1]}"


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


def code_fingerprint(text: str) -> str:
    return hashlib.sha256(normalized(text).encode()).hexdigest()


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
    devices = resolve_devices(device)
    common = {"topics": graded_topics, "devices": devices, "course": course_digest(course=course_obj, topics=graded_topics), "secret": secret_digest(course_obj.secret()), "grader": __version__}
    keys = {e.name: {**common, "submission": digest(e.path)} for e in found}
    with locked(out):
        why = {e.name: stale(_record(out, e.name), keys[e.name]) for e in found}
        todo = [e for e in found if why[e.name] is not None]
        internal = 0
        # A strict worker's root holds none of the submissions (it gets its code in the request) nor the results.
        with Grader(course=course_obj, sandbox=sandbox, devices=devices, hide=[out.resolve()]) as grader:
            if grader.mode == PROCESS and not allow_process:
                raise SandboxUnavailable(f"{PROCESS_REFUSED} (strict is not in force: {grader.mode_reason})")
            stream.write(f"{len(found)} submissions in {submissions}: {len(found) - len(todo)} already graded, {len(todo)} to grade{_reasons(Counter(why[e.name] for e in todo))}\n")
            with ThreadPoolExecutor(max_workers=jobs or default_jobs()) as pool, Progress(total=len(todo), stream=stream) as progress:
                futures = [pool.submit(grade_one, grader=grader, entry=e, course=course_obj, topics=topics, results=out, key=keys[e.name]) for e in todo]
                try:
                    for future in as_completed(futures):
                        outcome = future.result()
                        internal += outcome.internal_errors
                        progress.update(outcome)
                except KeyboardInterrupt:
                    progress.stop()
                    pool.shutdown(wait=False, cancel_futures=True)
                    stream.write(f"\ninterrupted: {progress.done} of {len(todo)} graded and kept; run the same command again to grade the rest\n")
                    return 130
                except ResultsUnwritable as exc:
                    progress.stop()
                    pool.shutdown(wait=True, cancel_futures=True)
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
