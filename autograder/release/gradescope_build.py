"""``grade gradescope build OUT.zip``: a Gradescope autograder that installs this grader and grades each submission.

The zip holds, at its root, ``setup.sh`` (Gradescope runs it once, as root, in /autograder/source: a venv with the
grader), ``run_autograder`` (run per submission: ``grade run`` into /autograder/results/results.json, and a results.json
with score 0 and the reason when grading fails), the grader's source and the whole course: solutions and hidden
checks included, so the zip is for the instructor's Gradescope account only. Gradescope has no secret store: the
course secret ships as ``secret``, readable by root only once installed (workers run as other uids).
"""

from __future__ import annotations

import re
import secrets
import shlex
from pathlib import Path

from ..course.config import RECORDED, Course, load_course, locate_course
from ..errors import ConfigError, UsageError
from ..reports.output import write_zip

__all__ = ["main", "ROOT_ENV"]

ROOT_ENV = "AUTOGRADER_GRADESCOPE_ROOT"  # where run_autograder finds source/, submission/, results/ (tests fake it)
_COURSE_FILES = ("course.yaml", "pyproject.toml", "constraints.txt", "README.md")  # pip install -e . reads the README
_COURSE_FOLDERS = ("exercises", "solutions", "checks")

_SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (written by `grade gradescope build`).
set -euo pipefail
cd "$(dirname "$0")"
apt-get update -qq
# The grader needs Python 3.11+: Ubuntu 22.04's python3 is 3.10, 24.04's is 3.12.
if python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  PYTHON=python3 && apt-get install -y -qq python3-venv
else
  PYTHON=python3.11 && apt-get install -y -qq python3.11 python3.11-venv
fi
"$PYTHON" -m venv .venv
# The CPU build of torch: Gradescope has no GPU, and the default wheel pulls gigabytes of CUDA libraries.
.venv/bin/python -m pip install -q --extra-index-url https://download.pytorch.org/whl/cpu -c constraints.txt -e .
chmod 600 secret
.venv/bin/grade --version
"""

_RUN = r"""#!/usr/bin/env bash
# Gradescope runs this for each submission (written by `grade gradescope build`). It always leaves a results.json.
set -uo pipefail
ROOT="${@ROOT_ENV@:-/autograder}"
SOURCE="$ROOT/source" SUBMISSION="$ROOT/submission" RESULTS="$ROOT/results/results.json"
TOPICS=(@TOPICS@)
mkdir -p "$ROOT/results" && rm -f "$RESULTS"
LOG=$(mktemp)

# setup.sh's venv; without one (the tests, a machine with the grader installed) the grade on PATH.
GRADE="$SOURCE/.venv/bin/grade"
[ -x "$GRADE" ] || GRADE=grade

# Students upload topic files, or a repository (exercises/ inside, perhaps under a folder): grade the shallowest
# folder that holds a topic's file, leaving out checks/ (a repository's public checks have the same names).
names=()
for topic in "${TOPICS[@]}"; do names+=(-o -name "$topic.py" -o -name "$topic.ipynb"); done
first=$(find "$SUBMISSION" \( -name '.*' -o -name checks -o -name __pycache__ \) -prune -o -type f \( "${names[@]:1}" \) -print \
  | awk -F/ '{ print NF "\t" $0 }' | sort -n -k1,1 | head -n 1 | cut -f2-)
FOLDER=$([ -n "$first" ] && dirname "$first" || echo "$SUBMISSION")

chmod 600 "$SOURCE/secret" 2>/dev/null
export @SECRET_ENV@="$(cat "$SOURCE/secret")"
"$GRADE" run "$FOLDER" --format gradescope --output "$RESULTS" --course "$SOURCE/course.yaml" 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}

# 3: a check failed internally; its report is complete, with no points for that check. Anything else without a
# report: score 0, and the grader's last line for the student (the whole log stays in stdout, for instructors).
if [ "$status" -ne 0 ] && ! { [ "$status" -eq 3 ] && [ -s "$RESULTS" ]; }; then
  python3 - "$RESULTS" "$status" "$LOG" <<'PY' || echo '{"score": 0, "output": "The autograder failed; tell your instructor.", "tests": []}' >"$RESULTS"
import json, sys
results, status, log = sys.argv[1:]
lines = [line for line in open(log, encoding="utf-8", errors="replace").read().splitlines() if line.strip()]
said = lines[-1] if lines else "(no output)"
output = f"The autograder could not grade this submission (grade exited with {status}): {said}\nYour score is 0 until it is regraded: tell your instructor."
with open(results, "w", encoding="utf-8") as f:
    json.dump({"score": 0, "output": output, "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden", "tests": []}, f, indent=2)
PY
fi
rm -f "$LOG"
exit 0
"""


def main(*, out: Path, course: Path | None, force: bool) -> int:
    """Write the autograder zip to ``out``; refuse to replace it without ``force``."""
    course_obj = load_course(locate_course(course, Path.cwd()))
    if course_obj.reference == RECORDED:
        raise ConfigError(f"{course_obj.path}: reference: {RECORDED} is a student bundle (no solutions or hidden checks); build from the course itself (reference: solutions)")
    out = Path(out).resolve()
    if out.exists() and not force:
        raise UsageError(f"{out}: already exists; pass --force to replace it")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", course_obj.secret_env):
        raise ConfigError(f"{course_obj.path}: seed.secret_env: run_autograder exports it, so it must be a shell variable name; got {course_obj.secret_env!r}")
    missing = [name for name in _COURSE_FILES if not (course_obj.root / name).is_file()]
    if missing:
        raise ConfigError(f"{course_obj.root}: no {', '.join(missing)}; the autograder installs the course with pip, which needs them")
    secret = course_obj.secret()
    entries = _entries(course_obj, secret or secrets.token_hex(32).encode())
    write_zip(out, entries)
    origin = f"from ${course_obj.secret_env}" if secret is not None else f"a new random one (set ${course_obj.secret_env} to choose it)"
    print(f"wrote {out}: {len(course_obj.topics)} topics with solutions and hidden checks; course secret: {origin}. Upload it to Gradescope only: it is the answer key.")
    return 0


def _entries(course: Course, secret: bytes) -> list[tuple[str, bytes, int]]:
    """(name in the zip, content, permission bits), sorted by name."""
    entries = [
        ("setup.sh", _SETUP.encode(), 0o755),
        ("run_autograder", _run_autograder(course).encode(), 0o755),
        ("secret", secret + b"\n", 0o600),
        *((name, (course.root / name).read_bytes(), 0o644) for name in _COURSE_FILES),
        *_tree(course.root, _COURSE_FOLDERS),
        *((f"autograder/{name}", data, mode) for name, data, mode in _tree(Path(__file__).resolve().parents[1], (".",))),
    ]
    return sorted(entries)


def _tree(root: Path, folders: tuple[str, ...]) -> list[tuple[str, bytes, int]]:
    """The files under ``root``/each folder, leaving out caches and hidden files (.ipynb_checkpoints, .DS_Store)."""
    found = []
    for folder in folders:
        for file in (root / folder).rglob("*"):
            relative = file.relative_to(root)
            if file.is_file() and file.suffix != ".pyc" and not any(p == "__pycache__" or p.startswith(".") for p in relative.parts):
                found.append((relative.as_posix(), file.read_bytes(), 0o644))
    return found


def _run_autograder(course: Course) -> str:
    topics = " ".join(shlex.quote(t.id) for t in course.topics)
    return _RUN.replace("@ROOT_ENV@", ROOT_ENV).replace("@TOPICS@", topics).replace("@SECRET_ENV@", course.secret_env)
