"""``grade gradescope build OUT.zip``: a Gradescope autograder that installs this grader and grades each submission.

The zip holds, at its root, ``setup.sh`` (Gradescope runs it once, as root, in /autograder/source: a venv with the
grader), ``run_autograder`` (run per submission: ``grade gradescope run``, which writes
/autograder/results/results.json, with score 0 and the reason when grading fails), the grader's source and the whole
course: solutions and hidden checks included, so the zip is for the instructor's Gradescope account only. Gradescope
has no secret store: the course secret ships as ``secret``, readable by root only once installed (workers run as
other uids).

Grading is for credit, so the autograder grades in the strict sandbox, and where Gradescope's machine cannot provide
it, each submission gets score 0 and a message saying so; ``allow_process`` (``--allow-process-sandbox``) lets it fall
back to the process sandbox, which isolates neither files nor the network.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from ..course.config import RECORDED, Course, load_course, locate_course
from ..errors import ConfigError, UsageError
from ..reports.output import write_zip

__all__ = ["main", "ROOT_ENV", "ALLOW_PROCESS_FLAG"]

ALLOW_PROCESS_FLAG = "--allow-process-sandbox"  # the opt-in; grade gradescope run names it to instructors
ROOT_ENV = "AUTOGRADER_GRADESCOPE_ROOT"  # where run_autograder finds source/, submission/, results/ (tests fake it)
_COURSE_FILES = ("course.yaml", "pyproject.toml", "constraints.txt", "README.md")  # pip install -e . reads the README
_COURSE_FOLDERS = ("exercises", "solutions", "checks")
_SANDBOX_CHOSEN = {
    "strict": f"sandbox: strict. Where Gradescope's machine cannot provide it, each submission gets score 0 and a message saying so; {ALLOW_PROCESS_FLAG} grades in the process sandbox there instead.",
    "auto": f"sandbox: strict where available, else the process sandbox ({ALLOW_PROCESS_FLAG}): no file-system or network isolation there, see SECURITY.md.",
}

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
# Gradescope runs this for each submission, in /autograder (written by `grade gradescope build`). `grade gradescope
# run` chooses the folder to grade, grades it and writes results.json, whatever happens; this script writes one
# itself only when the grader cannot even start.
set -uo pipefail
ROOT="${@ROOT_ENV@:-/autograder}"
SOURCE="$ROOT/source" RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results" && rm -f "$RESULTS"
LOG=$(mktemp)

# setup.sh's venv; without one (the tests, a machine with the grader installed) the grade on PATH.
GRADE="$SOURCE/.venv/bin/grade"
[ -x "$GRADE" ] || GRADE=grade

chmod 600 "$SOURCE/secret" 2>/dev/null
export @SECRET_ENV@="$(cat "$SOURCE/secret")"
"$GRADE" gradescope run --root "$ROOT" --sandbox @SANDBOX@ 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}

# No results.json: the grader did not start (not installed, a broken venv). Score 0, and its last line for the
# student (the whole log stays in stdout, for instructors).
if [ ! -s "$RESULTS" ]; then
  python3 - "$RESULTS" "$status" "$LOG" <<'PY' || echo '{"score": 0, "output": "The autograder failed; tell your instructor.", "tests": []}' >"$RESULTS"
import json, sys
results, status, log = sys.argv[1:]
lines = [line for line in open(log, encoding="utf-8", errors="replace").read().splitlines() if line.strip()]
said = lines[-1] if lines else "(no output)"
output = f"The autograder could not grade this submission (grade exited with {status}): {said}\nYour score is 0 until it is regraded: tell your instructor."
with open(results, "w", encoding="utf-8") as f:
    json.dump({"score": 0, "output": output, "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden", "tests": []}, f, indent=2, allow_nan=False)
PY
fi
rm -f "$LOG"
exit 0
"""


def main(*, out: Path, course: Path | None, force: bool, allow_process: bool = False) -> int:
    """Write the autograder zip to ``out``; refuse to replace it without ``force``. It grades with ``--sandbox
    strict``, or ``auto`` (the process sandbox where strict is unavailable) with ``allow_process``."""
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
    sandbox = "auto" if allow_process else "strict"
    entries = _entries(course_obj, secret or secrets.token_hex(32).encode(), sandbox)
    write_zip(out, entries)
    origin = f"from ${course_obj.secret_env}" if secret is not None else f"a new random one (set ${course_obj.secret_env} to choose it)"
    print(f"wrote {out}: {len(course_obj.topics)} topics with solutions and hidden checks; course secret: {origin}. Upload it to Gradescope only: it is the answer key.")
    print(_SANDBOX_CHOSEN[sandbox])
    return 0


def _entries(course: Course, secret: bytes, sandbox: str) -> list[tuple[str, bytes, int]]:
    """(name in the zip, content, permission bits), sorted by name."""
    entries = [
        ("setup.sh", _SETUP.encode(), 0o755),
        ("run_autograder", _run_autograder(course, sandbox).encode(), 0o755),
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


def _run_autograder(course: Course, sandbox: str) -> str:
    return _RUN.replace("@ROOT_ENV@", ROOT_ENV).replace("@SECRET_ENV@", course.secret_env).replace("@SANDBOX@", sandbox)
