"""`grade batch` against `nbgrader autograde` on the same 20 notebook submissions, side by side in one run.

    .venv/bin/python benchmarks/batch_vs_nbgrader.py [--topic information]

The 20 submissions of one topic, as filled-in notebooks: 8 correct (the reference), 6 with a known mistake each
(tests/mistakes/<topic>.yaml), 4 that crash (an exception at import, sys.exit at import, os._exit in a function, a
function that raises), the untouched stub, and one with an infinite loop in one function.

- ours: `grade batch` over the 20 notebooks in a fresh process (start-up included), every check public and hidden,
  in the strongest sandbox this machine offers, one submission per core;
- nbgrader: stock `nbgrader autograde` (its Execute step, a Jupyter kernel per notebook, default 30 s per cell) on the
  notebooks `grade release nbgrader` produced, whose test cells run the same checks inside the kernel
  (benchmarks/inkernel.py): nbgrader's way, with no sandbox. The infinite loop is submitted and autograded on its own
  afterwards, so its cost is measured apart; ours reads it from the batch's record of that submission.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "AUTOGRADER_SECRET": "benchmark"}
LOOP = "s19"


def timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True)
    if done.returncode not in (0, 1):  # nbgrader exits 1 when a notebook failed to autograde (the crashes)
        raise SystemExit(f"{' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def sources(topic: str, source_notebook: dict) -> list[dict]:
    """The 20 notebooks: the source notebook (the reference) edited per submission."""
    code_cells = [c for c in source_notebook["cells"] if c["cell_type"] == "code" and c["metadata"]["nbgrader"]["solution"]]
    functions = [c for c in code_cells if c["metadata"]["nbgrader"]["grade_id"].startswith("solution-")]
    first = "".join(functions[0]["source"])
    name = functions[0]["metadata"]["nbgrader"]["grade_id"].removeprefix("solution-")
    mistakes = list(yaml.safe_load((ROOT / "tests" / "mistakes" / f"{topic}.yaml").read_text()).values())[:6]
    body_start = first.index("### BEGIN SOLUTION")
    edits: list[tuple[str, str] | None] = [None] * 8 + [(m["replace"], m["with"]) for m in mistakes]
    edits += [("### BEGIN SOLUTION", "### BEGIN SOLUTION\n    raise RuntimeError('boom')")]  # raises when called
    edits += [("### BEGIN SOLUTION", "### BEGIN SOLUTION\n    import os; os._exit(0)")]  # kills its process
    out = []
    for edit in edits:
        notebook = json.loads(json.dumps(source_notebook))
        for cell in notebook["cells"]:
            text = "".join(cell["source"])
            if edit and edit[0] in text and (edit[0] != "### BEGIN SOLUTION" or text == first):
                cell["source"] = text.replace(edit[0], edit[1], 1)
        out.append(notebook)
    for crash in ("raise RuntimeError('crash at import')", "import sys; sys.exit(0)"):
        notebook = json.loads(json.dumps(source_notebook))
        helper = next(c for c in notebook["cells"] if c["cell_type"] == "code")
        helper["source"] = "".join(helper["source"]) + "\n" + crash
        out.append(notebook)
    stub = json.loads(json.dumps(source_notebook))
    for cell in stub["cells"]:
        text = "".join(cell["source"])
        if "### BEGIN SOLUTION" in text:
            lines, keep, skipping = text.split("\n"), [], False
            for line in lines:
                if "### BEGIN SOLUTION" in line:
                    keep.append(line.replace("### BEGIN SOLUTION", "raise NotImplementedError()"))
                    skipping = True
                elif "### END SOLUTION" in line:
                    skipping = False
                elif not skipping:
                    keep.append(line)
            cell["source"] = "\n".join(keep)
    out.append(stub)
    loop = json.loads(json.dumps(source_notebook))
    for cell in loop["cells"]:
        if "".join(cell["source"]) == first:
            cell["source"] = first[:body_start] + "### BEGIN SOLUTION\n    while True:\n        pass" + first[body_start + len("### BEGIN SOLUTION"):]
    out.append(loop)
    assert len(out) == 20, len(out)
    print(f"  the loop is in {name}()")
    return out


def in_kernel(notebook: dict, topic: str) -> None:
    """Test cells that run the same checks inside the kernel (nbgrader's way) instead of naming them for our grader."""
    for cell in notebook["cells"]:
        meta = cell["metadata"]["nbgrader"]
        if meta["grade"] and not meta["solution"]:
            source = "".join(cell["source"])
            if "check_hidden(" in source:
                ids = [c for c in yaml.safe_load((ROOT / "course.yaml").read_text())["topics"] if c["id"] == topic][0]["checks"]
                wanted = [c for c in ids if c.startswith("hidden_")]
            else:
                wanted = [meta["grade_id"]]
            cell["source"] = f"import sys; sys.path[:0] = [{str(ROOT)!r}, {str(HERE)!r}]\nfrom inkernel import check\ncheck({str(ROOT / 'course.yaml')!r}, {topic!r}, {wanted!r}, globals())"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", default="information")
    args = parser.parse_args()
    topic = args.topic
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        nbdir = work / "nbgrader"
        timed([str(BIN / "grade"), "release", "nbgrader", str(nbdir), "--topic", topic, "--course", str(ROOT / "course.yaml")], ROOT)
        source_path = nbdir / "source" / topic / f"{topic}.ipynb"
        notebooks = sources(topic, json.loads(source_path.read_text()))

        # As for nbgrader below: the 19, then the loop on its own (the same results folder: it grades only what is new).
        subs = work / "submissions"
        subs.mkdir()
        for i, notebook in enumerate(notebooks):
            if f"s{i:02d}" != LOOP:
                (subs / f"s{i:02d}.ipynb").write_text(json.dumps(notebook))
        batch = [str(BIN / "grade"), "batch", str(subs), "--out", str(work / "results"), "--topic", topic, "--course", str(ROOT / "course.yaml")]
        ours = timed(batch, ROOT)
        (subs / f"{LOOP}.ipynb").write_text(json.dumps(notebooks[int(LOOP[1:])]))
        loop_ours = timed(batch, ROOT)
        scores_ours = {r: json.loads((work / "results" / r / "batch.json").read_text())["points"].get(topic, 0) for r in sorted(p.name for p in (work / "results").iterdir() if p.is_dir())}

        source = json.loads(source_path.read_text())
        in_kernel(source, topic)
        source_path.write_text(json.dumps(source))
        (nbdir / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\nc.CourseDirectory.course_id = 'benchmark'\n")  # stock nbgrader
        timed([str(BIN / "nbgrader"), "generate_assignment", topic], nbdir)
        for i, notebook in enumerate(notebooks):
            if f"s{i:02d}" != LOOP:
                target = nbdir / "submitted" / f"s{i:02d}" / topic / f"{topic}.ipynb"
                target.parent.mkdir(parents=True)
                target.write_text(json.dumps(notebook))
        theirs = timed([str(BIN / "nbgrader"), "autograde", topic], nbdir)
        target = nbdir / "submitted" / LOOP / topic / f"{topic}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(notebooks[int(LOOP[1:])]))
        loop_theirs = timed([str(BIN / "nbgrader"), "autograde", topic, "--student", LOOP], nbdir)
        timed([str(BIN / "nbgrader"), "export"], nbdir)
        shutil.copy(nbdir / "grades.csv", work / "grades.csv")
        import csv

        with open(work / "grades.csv") as f:
            scores_theirs = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f) if row["assignment"] == topic}

    n = len(notebooks)
    total_ours, total_theirs = ours + loop_ours, theirs + loop_theirs
    print(f"{topic}: {n} notebook submissions (8 correct, 6 known mistakes, 4 crashes, 1 stub, 1 infinite loop), {os.cpu_count()} cores")
    print(f"  {'':34}{'grade batch':>14}{'nbgrader':>14}{'ratio':>9}")
    print(f"  {'total, all 20 (s)':34}{total_ours:14.1f}{total_theirs:14.1f}{total_theirs / total_ours:8.1f}x")
    print(f"  {'per submission (s)':34}{total_ours / n:14.2f}{total_theirs / n:14.2f}{total_theirs / total_ours:8.1f}x")
    print(f"  {'the 19 without the loop (s)':34}{ours:14.1f}{theirs:14.1f}{theirs / ours:8.1f}x")
    print(f"  {'the infinite loop alone (s)':34}{loop_ours:14.1f}{loop_theirs:14.1f}{loop_theirs / loop_ours:8.1f}x")
    print("  (each run is a fresh process: start-up included; the loop's run re-reads the 19 results and rewrites the class files)")
    print(f"  {'sandbox':34}{'yes':>14}{'none':>14}")
    differ = {s: (scores_ours.get(s), scores_theirs.get(s)) for s in sorted(set(scores_ours) | set(scores_theirs)) if scores_ours.get(s) != scores_theirs.get(s)}
    print(f"  scores that differ (ours, nbgrader's): {differ or 'none'}")


if __name__ == "__main__":
    main()
