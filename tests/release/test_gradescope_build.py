"""``grade gradescope build``: what the zip holds, and run_autograder grading in a fake /autograder like ``grade run``;
``grade gradescope run``: the folder it chooses, the sandbox it insists on, and the results.json it always leaves."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from autograder import cli
from autograder.engine.results import ERROR
from autograder.errors import SandboxUnavailable
from autograder.release import gradescope_build as build_module
from autograder.release import gradescope_run as run_module

from conftest import ROOT, STRICT_OK
from mistakes import known_mistakes

SECRET = os.environ["AUTOGRADER_SECRET"]  # conftest fixes it; the build ships it, run_autograder must use it
VENV_BIN = str(Path(sys.executable).parent)  # run_autograder falls back to the grade on PATH: this checkout's
MISTAKE = known_mistakes("information")["kl_swapped"]
TOPICS = [t["id"] for t in yaml.safe_load((ROOT / "course.yaml").read_text())["topics"]]
ALLOW_PROCESS = not STRICT_OK  # grade strict where this machine can, as a grading machine does; else nothing is graded


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build") / "autograder.zip"
    assert build_module.main(out=out, course=ROOT / "course.yaml", force=False, allow_process=ALLOW_PROCESS) == 0
    return out


def install(archive: Path, root: Path) -> Path:
    """What Gradescope does with the zip: its files in root/source, with their permissions."""
    source = root / "source"
    with zipfile.ZipFile(archive) as z:
        z.extractall(source)
        for info in z.infolist():
            (source / info.filename).chmod((info.external_attr >> 16) & 0o777)
    (root / "submission").mkdir()
    return source


def run_autograder(root: Path, *, path: str) -> dict:
    """Run it as Gradescope does (from /autograder); results.json must be RFC 8259 JSON."""
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_SECRET"}  # the secret must come from the zip
    env.update({build_module.ROOT_ENV: str(root), "PATH": path})
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no course secret" not in done.stdout + done.stderr
    return strict_json((root / "results" / "results.json").read_text())


def strict_json(text: str) -> dict:
    def refuse(name: str) -> None:
        raise ValueError(f"not RFC 8259 JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def test_the_zip_holds_the_course_and_its_answer_key_but_no_tests(built: Path):
    with zipfile.ZipFile(built) as z:
        infos = {i.filename: i for i in z.infolist()}
        assert z.read("secret").decode().strip() == SECRET
    names = list(infos)
    assert names == sorted(names)
    for name in ("setup.sh", "run_autograder", "course.yaml", "pyproject.toml", "constraints.txt", "autograder/cli.py"):
        assert name in infos, name
    for topic in TOPICS:
        assert {f"exercises/{topic}.py", f"solutions/{topic}.py", f"checks/public/{topic}.py", f"checks/hidden/{topic}.py"} <= set(names)
    assert not [n for n in names if n.split("/")[0] in ("tests", "benchmarks", ".git", ".venv") or "__pycache__" in n or n.endswith(".pyc")]
    assert {n: (i.external_attr >> 16) & 0o777 for n, i in infos.items() if n in ("setup.sh", "run_autograder", "secret")} == {"setup.sh": 0o755, "run_autograder": 0o755, "secret": 0o600}
    assert {i.date_time for i in infos.values()} == {(1980, 1, 1, 0, 0, 0)}


def test_the_same_course_and_secret_give_the_same_zip(built: Path, tmp_path: Path):
    assert build_module.main(out=tmp_path / "again.zip", course=ROOT / "course.yaml", force=False, allow_process=ALLOW_PROCESS) == 0
    assert (tmp_path / "again.zip").read_bytes() == built.read_bytes()


@pytest.mark.parametrize("script", ["setup.sh", "run_autograder"])
def test_the_scripts_are_valid_bash(built: Path, tmp_path: Path, script: str):
    with zipfile.ZipFile(built) as z:
        (tmp_path / script).write_bytes(z.read(script))
    done = subprocess.run(["bash", "-n", str(tmp_path / script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def expected_points(tmp_path_factory) -> dict[tuple[str, str], float]:
    """The known mistake graded by `grade run --format json` with the same secret: (topic, check) -> points."""
    folder = tmp_path_factory.mktemp("expected")
    (folder / "information.py").write_text(MISTAKE.source)
    done = subprocess.run([sys.executable, "-m", "autograder", "run", str(folder), "--format", "json", "--course", str(ROOT / "course.yaml")], capture_output=True, text=True, timeout=120, env={**os.environ, "AUTOGRADER_SECRET": SECRET})
    assert done.returncode == 0, done.stderr
    return {(t["id"], c["id"]): c["points"] for t in json.loads(done.stdout)["topics"] for c in t["checks"]}


@pytest.mark.parametrize(
    "where",
    [
        pytest.param("information.py", id="files-uploaded"),
        pytest.param("exercises/information.py", id="repository"),
        pytest.param("student-repo-main/exercises/information.py", id="repository-in-a-folder"),
    ],
)
def test_run_autograder_grades_the_submission_like_grade_run(built: Path, tmp_path: Path, expected_points: dict, where: str):
    root = tmp_path / "autograder"
    install(built, root)
    (root / "submission" / where).parent.mkdir(parents=True, exist_ok=True)
    (root / "submission" / where).write_text(MISTAKE.source)
    if where != "information.py":  # a repository also holds the public checks, under the same names as the topics
        shutil.copytree(ROOT / "checks" / "public", (root / "submission" / where).parent.parent / "checks" / "public")
    results = run_autograder(root, path=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
    tests = results["tests"]
    assert all({"score", "max_score", "status", "name"} <= set(t) and t["status"] in ("passed", "failed") for t in tests)
    assert {(t["extra_data"]["topic"], t["extra_data"]["check"]): t["score"] for t in tests} == expected_points
    assert results["score"] == sum(t["score"] for t in tests) == sum(expected_points.values())
    failed = {t["extra_data"]["check"] for t in tests if t["extra_data"]["topic"] == "information" and t["status"] == "failed"}
    assert failed == MISTAKE.fails


@pytest.mark.parametrize(
    "break_it, path, says",
    [
        pytest.param(lambda source: (source / "course.yaml").write_text("course: x\ntopics: nope\n"), None, "(grade exited with 2): Error: ", id="invalid-course-yaml"),
        pytest.param(lambda source: None, "/usr/bin:/bin", "(grade exited with 127)", id="grader-not-installed"),
    ],
)
def test_a_failed_grading_still_leaves_results_with_score_zero(built: Path, tmp_path: Path, break_it, path: str | None, says: str):
    root = tmp_path / "autograder"
    break_it(install(built, root))
    (root / "submission" / "information.py").write_text(MISTAKE.source)
    results = run_autograder(root, path=path or f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
    assert results["score"] == 0 and results["tests"] == []
    assert says in results["output"] and "tell your instructor" in results["output"]


def test_a_student_bundle_is_refused(tmp_path: Path):
    shutil.copytree(ROOT / "tests" / "toy_course", tmp_path / "course")
    course_yaml = tmp_path / "course" / "course.yaml"
    course_yaml.write_text(course_yaml.read_text() + "reference: recorded\n")
    (tmp_path / "course" / "answers").mkdir()
    (tmp_path / "course" / "answers" / "toy.npz").write_bytes(b"")
    result = CliRunner().invoke(cli.main, ["gradescope", "build", str(tmp_path / "out.zip"), "--course", str(course_yaml)])
    assert result.exit_code == 2
    assert "reference: recorded is a student bundle" in result.output
    assert not (tmp_path / "out.zip").exists()


@pytest.mark.parametrize("force, exit_code", [pytest.param(False, 2, id="refused"), pytest.param(True, 0, id="with-force")])
def test_an_existing_zip_is_replaced_only_with_force(tmp_path: Path, force: bool, exit_code: int):
    out = tmp_path / "autograder.zip"
    out.write_bytes(b"keep me")
    result = CliRunner().invoke(cli.main, ["gradescope", "build", str(out), "--course", str(ROOT / "course.yaml"), *(["--force"] if force else [])])
    assert result.exit_code == exit_code, result.output
    if force:
        assert zipfile.is_zipfile(out)
    else:
        assert f"Error: {out}: already exists; pass --force to replace it" in result.output
        assert out.read_bytes() == b"keep me"


@pytest.mark.parametrize(
    "flags, sandbox, says",
    [
        pytest.param([], "strict", "sandbox: strict. Where Gradescope's machine cannot provide it, each submission gets score 0 and a message saying so", id="strict-by-default"),
        pytest.param(["--allow-process-sandbox"], "auto", "sandbox: strict where available, else the process sandbox (--allow-process-sandbox): no file-system or network isolation", id="process-sandbox-allowed"),
    ],
)
def test_the_autograder_grades_in_the_strict_sandbox_unless_the_instructor_allows_the_process_sandbox(tmp_path: Path, flags: list[str], sandbox: str, says: str):
    out = tmp_path / "autograder.zip"
    result = CliRunner().invoke(cli.main, ["gradescope", "build", str(out), "--course", str(ROOT / "course.yaml"), *flags])
    assert result.exit_code == 0, result.output
    assert says in result.output
    with zipfile.ZipFile(out) as z:
        assert f'"$GRADE" gradescope run --root "$ROOT" --sandbox {sandbox} 2>&1' in z.read("run_autograder").decode()


SOLUTIONS = ROOT / "solutions"


def lay_out(folder: Path, entries: tuple[str, ...]) -> None:
    """Files (each holding the stub) and links (``name -> target``) under ``folder``."""
    for entry in entries:
        name, _, target = entry.partition(" -> ")
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if target:
            path.symlink_to(target)
        else:
            path.write_text((ROOT / "exercises" / "information.py").read_text())


@pytest.mark.parametrize(
    "entries, chosen",
    [
        pytest.param(("information.py", "notes.txt"), ".", id="files-uploaded"),
        pytest.param(("repo/exercises/information.py", "repo/checks/public/information.py", "repo/README.md"), "repo/exercises", id="repository-its-checks-left-out"),
        pytest.param(("z/information.py", "a/b/information.py"), "z", id="the-shallowest"),
        pytest.param(("b/information.py", "a/convexity.ipynb"), "a", id="ties-broken-by-name-notebooks-count"),
        pytest.param((".git/information.py", "__pycache__/information.py", "x/y/information.py"), "x/y", id="hidden-folders-and-caches-left-out"),
        pytest.param((f"exercises -> {SOLUTIONS}", "mine/information.py"), "mine", id="a-linked-folder-is-not-followed"),
        pytest.param((f"information.py -> {SOLUTIONS / 'information.py'}", "mine/information.py"), "mine", id="a-linked-file-is-no-topic-file"),
    ],
)
def test_the_folder_graded_is_the_shallowest_real_one_holding_a_topic_file(tmp_path: Path, entries: tuple[str, ...], chosen: str):
    lay_out(tmp_path, entries)
    assert run_module.choose_folder(tmp_path, TOPICS) == tmp_path / chosen


@pytest.mark.parametrize(
    "entries, says",
    [
        pytest.param(("x\n/information.py",), repr("x\n"), id="a-newline"),
        pytest.param(("a/\x1b[31m/information.py",), repr("\x1b[31m"), id="an-escape-sequence"),
        pytest.param(("a\x7f/information.py",), repr("a\x7f"), id="delete"),
        pytest.param(("ok/information.py", "ok/\r.py"), repr("\r.py"), id="a-file-name"),
        pytest.param(("caf\udce9/information.py",), "not UTF-8", id="bytes-that-are-not-utf-8"),
        pytest.param((f"exercises -> {SOLUTIONS}",), "no topic file (", id="only-a-link-to-the-solutions"),
    ],
)
def test_unsafe_names_and_uploads_without_a_topic_file_are_refused(tmp_path: Path, entries: tuple[str, ...], says: str):
    lay_out(tmp_path, entries)
    with pytest.raises(run_module.Refused) as refused:
        run_module.choose_folder(tmp_path, TOPICS)
    assert says in str(refused.value)


@pytest.fixture
def toy_root(tmp_path: Path) -> Path:
    """A fake /autograder with the toy course (one of its checks is broken) and its reference as the submission."""
    shutil.copytree(ROOT / "tests" / "toy_course", tmp_path / "source")
    (tmp_path / "submission").mkdir()
    shutil.copy(ROOT / "tests" / "toy_course" / "solutions" / "toy.py", tmp_path / "submission" / "toy.py")
    return tmp_path


def test_a_check_that_fails_internally_leaves_the_whole_report_and_exit_code_3(toy_root: Path):
    # A process of its own: the toy course's `checks` package must not meet the one this process imported.
    command = [sys.executable, "-m", "autograder", "gradescope", "run", "--root", str(toy_root), "--sandbox", "auto" if ALLOW_PROCESS else "strict"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=toy_root)
    assert done.returncode == 3, done.stderr[-2000:]
    results = strict_json((toy_root / "results" / "results.json").read_text())
    assert {t["extra_data"]["check"]: t["extra_data"]["status"] for t in results["tests"]} == {"scale": "passed", "counter": "passed", "component": "passed", "broken": ERROR}
    assert results["score"] == 3


def _no_strict(**_: object) -> None:
    raise SandboxUnavailable("--sandbox strict is not available here: the kernel refused to create namespaces (unshare failed)")


def _grader_bug(**_: object) -> None:
    raise RuntimeError("a bug in the grader")


@pytest.mark.parametrize(
    "grader, upload, code, says",
    [
        pytest.param(_no_strict, None, 2, [
            "The autograder could not grade this submission: it grades in the strict sandbox only, and this machine cannot provide it (--sandbox strict is not available here: the kernel refused to create namespaces (unshare failed)).",
            "Your score is 0 until it is regraded: tell your instructor.",
            "Instructor: rebuild the autograder with `grade gradescope build --allow-process-sandbox` to grade in the process sandbox where strict is unavailable (no file-system or network isolation: see SECURITY.md), upload it, and regrade.",
        ], id="strict-sandbox-unavailable"),
        pytest.param(_grader_bug, None, 1, ["The autograder could not grade this submission (grade exited with 1): RuntimeError: a bug in the grader", "tell your instructor"], id="a-bug-in-the-grader"),
        pytest.param(None, "x\n/toy.py", 2, ["This submission was not graded: ", repr("x\n"), "Your score is 0: fix this and submit again."], id="an-unsafe-name"),
        pytest.param(None, "notes.txt", 2, ["This submission was not graded: no topic file (toy.ipynb, toy.py)", "submit again"], id="no-topic-file"),
    ],
)
def test_grading_that_cannot_finish_leaves_results_with_score_zero_and_the_reason(toy_root: Path, monkeypatch, grader, upload: str | None, code: int, says: list[str]):
    if grader is not None:
        monkeypatch.setattr(run_module, "Grader", grader)
    if upload is not None:
        (toy_root / "submission" / "toy.py").unlink()
        lay_out(toy_root / "submission", (upload,))
    assert run_module.main(root=toy_root, sandbox="strict") == code
    results = strict_json((toy_root / "results" / "results.json").read_text())
    assert results["score"] == 0 and results["tests"] == []
    for line in says:
        assert line in results["output"]
