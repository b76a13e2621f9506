"""The ``grade`` command: a thin click layer over keyword-only functions (imports stay lazy: --help is instant)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .errors import GraderError

FORMATS = ("text", "json", "gradescope", "junit", "markdown", "html")


class FormatTarget(click.ParamType):
    """``FMT`` or ``FMT:PATH``: a report format, and the file it goes to (none: the terminal, or --output)."""

    name = "FMT[:PATH]"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, tuple):
            return value
        fmt, _, file = value.partition(":")
        if fmt not in FORMATS:
            self.fail(f"{fmt!r} is not a report format; expected one of {', '.join(FORMATS)}, optionally with :PATH", param, ctx)
        if _ and not file:
            self.fail(f"{value!r}: no file after the colon (FMT:PATH)", param, ctx)
        return fmt, Path(file) if file else None

    def shell_complete(self, ctx, param, incomplete):  # type: ignore[no-untyped-def]
        return [click.shell_completion.CompletionItem(f) for f in FORMATS if f.startswith(incomplete)]

# Every command that reads the course takes it the same way.
course_option = click.option("--course", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="course.yaml to use (default: $AUTOGRADER_COURSE, else the nearest one above the current folder).")


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="autograder")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Grade deep-learning exercises with numeric and gradient checks, in a sandbox.

    Without a command, grades exercises/ in the current folder (same as `grade run`).
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(run)


@main.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--topic", "-t", "topics", multiple=True, metavar="ID", help="Grade only this topic (repeatable).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "all"]), default="auto", show_default=True, help="Where checks run; auto adds CUDA when a GPU is present.")
@click.option("--format", "formats", type=FormatTarget(), multiple=True, help=f"Report format ({', '.join(FORMATS)}), to the terminal, or FMT:PATH to a file; repeatable: one run writes every format (--format junit:junit.xml --format markdown:report.md).  [default: text]")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the --format given without a file here (the text report still comes to the terminal).")
@click.option("--check", "-c", "checks", multiple=True, metavar="ID", help="Grade only the checks matching ID: an id, a glob ('conv2d_*') or TOPIC.ID (repeatable).")
@click.option("--sandbox", type=click.Choice(["auto", "strict", "process"]), default="auto", show_default=True, help="Worker isolation; auto is the strongest available.")
@course_option
@click.option("--public-only", is_flag=True, help="Skip hidden checks.")
@click.option("--figures", type=click.Path(file_okay=False, path_type=Path), help="Draw the checks' figures (SVG) here.  [default: with --output, <name>-figures/ beside it]")
@click.option("--fail-under", type=click.FloatRange(0, 100), metavar="PERCENT", help="Exit with 4 when the score is under PERCENT of the points graded (for CI).")
def run(path: Path | None, topics: tuple[str, ...], device: str, formats: tuple[tuple[str, Path | None], ...], output: Path | None, checks: tuple[str, ...], sandbox: str, course: Path | None, public_only: bool, figures: Path | None, fail_under: float | None) -> None:
    """Grade PATH: a folder laid out like exercises/ or one topic's file (a .py
    module or a .ipynb notebook). Without PATH: ./exercises, or the current
    folder when it holds the topic files (cd exercises && grade).

    \b
    Exit codes: 0 graded (whatever the score, unless --fail-under), 1 unexpected
    failure, 2 bad course.yaml or command line, 3 a check could not be judged (a
    broken check, or a machine too busy to run it; no points given), 4 the score
    is under --fail-under.
    """
    from . import run as run_module

    _exit(lambda: run_module.main(path=path, topics=topics, device=device, formats=formats or (("text", None),), output=output, sandbox=sandbox, course=course, public_only=public_only, figures=figures, fail_under=fail_under, checks=checks))


@main.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--topic", "-t", "topics", multiple=True, metavar="ID", help="Watch only this topic (repeatable).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "all"]), default="auto", show_default=True, help="Where checks run; auto adds CUDA when a GPU is present.")
@click.option("--sandbox", type=click.Choice(["auto", "strict", "process"]), default="auto", show_default=True, help="Worker isolation; auto is the strongest available.")
@course_option
@click.option("--public-only", is_flag=True, help="Skip hidden checks.")
@click.option("--log", is_flag=True, help="Add each regrade's report below the last instead of redrawing the screen.")
def watch(path: Path | None, topics: tuple[str, ...], device: str, sandbox: str, course: Path | None, public_only: bool, log: bool) -> None:
    """Grade PATH (as `grade run` does), then grade a topic again each time its
    file is saved, in one warm grader: feedback in a fraction of a second.
    Ctrl-C stops it."""
    from . import watch as watch_module

    _exit(lambda: watch_module.main(path=path, topics=topics, course=course, sandbox=sandbox, device=device, public_only=public_only, log=log))


@main.command("list")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@course_option
@click.option("--checks", is_flag=True, help="Also list each topic's check ids and points (for grade run --check).")
def list_(path: Path | None, course: Path | None, checks: bool) -> None:
    """List the course's topics, their points and the functions each asks for,
    marking those PATH (default: as for `grade run`) has attempted."""
    from . import listing

    _exit(lambda: listing.main(path=path, course=course, checks=checks))


@main.command()
@click.option("--topic", "-t", "topics", multiple=True, metavar="ID", help="Self-test only this topic (repeatable; default: all).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "all"]), default="auto", show_default=True, help="Where the reference must pass; mutants run on the CPU.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Report format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here (a text summary still goes to stdout).")
@click.option("--jobs", "-j", type=int, metavar="N", help="Mutants graded at a time.  [default: the usable CPU cores]")
@click.option("--sandbox", type=click.Choice(["auto", "strict", "process"]), default="auto", show_default=True, help="Worker isolation; auto is the strongest available.")
@course_option
def selftest(topics: tuple[str, ...], device: str, fmt: str, output: Path | None, jobs: int | None, sandbox: str, course: Path | None) -> None:
    """Prove each topic's checks can grade: the reference passes, the stub is
    'not attempted', results repeat, and mutants of the reference lose points.

    \b
    Exit codes: 0 every topic passed, 1 a topic failed (reference, stub,
    repeatability, or a mutation score under its course.yaml threshold),
    2 bad course.yaml or command line.
    """
    from .selftest import runner as selftest_module

    _exit(lambda: selftest_module.main(course=course, topics=topics, device=device, fmt=fmt, output=output, sandbox=sandbox, jobs=jobs))


@main.command()
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "-o", "out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Results folder: one folder per submission, gradebook.csv, summary.")
@click.option("--topic", "-t", "topics", multiple=True, metavar="ID", help="Grade only this topic (repeatable).")
@click.option("--jobs", "-j", type=int, metavar="N", help="Submissions graded at a time.  [default: the usable CPU cores]")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "all"]), default="cpu", show_default=True, help="Where checks run.")
@click.option("--sandbox", type=click.Choice(["auto", "strict", "process"]), default="auto", show_default=True, help="Worker isolation; auto is the strongest available.")
@course_option
@click.option("--allow-process-sandbox", "allow_process", is_flag=True, help="Grade even where only the process sandbox is available (no file-system, network or process isolation: not for credit).")
@click.option("--cluster", metavar="ADDRESS", help="Grade on a Dask cluster: its scheduler's address (tcp://host:8786), or local:N for N worker processes on this machine (needs the cluster extra).")
def batch(submissions: Path, out: Path, topics: tuple[str, ...], jobs: int | None, device: str, sandbox: str, course: Path | None, allow_process: bool, cluster: str | None) -> None:
    """Grade every submission in SUBMISSIONS (a subfolder, .zip or .ipynb each) into
    --out: every report format per submission, gradebook.csv and a summary. Run it
    again after an interruption: it grades only what is missing.

    \b
    Exit codes: 0 every submission graded, 1 unexpected failure, 2 bad course.yaml
    or command line, or the results folder is in use or cannot be written (what was
    written is kept: run again), or only the process sandbox is available (see
    --allow-process-sandbox), or no worker of --cluster can grade (what was graded
    is kept: run again), 3 a check failed internally, 4 a submission could not be
    graded (its gradebook row says why; every other one is graded).
    """
    from . import batch as batch_module

    _exit(lambda: batch_module.main(submissions=submissions, out=out, topics=topics, jobs=jobs, device=device, sandbox=sandbox, course=course, allow_process=allow_process, cluster=cluster))


@main.group()
def gradescope() -> None:
    """Gradescope integration."""


@gradescope.command("build")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@course_option
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@click.option("--allow-process-sandbox", "allow_process", is_flag=True, help="Where Gradescope's machine cannot run the strict sandbox, grade in the process sandbox (no file-system or network isolation) instead of giving score 0.")
def gradescope_build(out: Path, course: Path | None, force: bool, allow_process: bool) -> None:
    """Write OUT (a .zip): a Gradescope autograder (setup.sh, run_autograder) that
    installs this grader and the course and writes /autograder/results/results.json.
    It grades in the strict sandbox only, unless --allow-process-sandbox."""
    from .release import gradescope_build as build_module

    _exit(lambda: build_module.main(out=out, course=course, force=force, allow_process=allow_process))


@gradescope.command("run")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("/autograder"), show_default=True, help="Gradescope's folder: source/ (the course), submission/, results/.")
@click.option("--sandbox", type=click.Choice(["strict", "auto"]), default="strict", show_default=True, help="Worker isolation; auto falls back to the process sandbox where strict is unavailable.")
def gradescope_run(root: Path, sandbox: str) -> None:
    """Grade ROOT/submission (files, or a repository holding them) with the course
    in ROOT/source into ROOT/results/results.json: run_autograder runs this. It
    always leaves a results.json, with score 0 and the reason when the submission
    is refused or grading fails.

    \b
    Exit codes: 0 graded, 1 unexpected failure, 2 the submission was refused, bad
    course.yaml, or the sandbox is unavailable, 3 a check failed internally (no
    points given for it).
    """
    from .release import gradescope_run as run_module

    _exit(lambda: run_module.main(root=root, sandbox=sandbox))


@main.group()
def release() -> None:
    """Build what students and nbgrader get, from the course's own files."""


@release.command("student")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@course_option
@click.option("--force", is_flag=True, help="Replace OUT (and OUT.zip) if they exist.")
def release_student(out: Path, course: Path | None, force: bool) -> None:
    """Write the student bundle to OUT (a folder) and OUT.zip: the stubs, the public
    checks with their fixed inputs and recorded expected answers, the grader, and a
    README. No reference solution, hidden check or course secret goes in."""
    from .release import bundle

    _exit(lambda: bundle.main(out=out, course=course, force=force))


@release.command("nbgrader")
@click.argument("course_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--topic", "-t", "topics", multiple=True, metavar="ID", help="Release only this topic (repeatable; default: all).")
@course_option
@click.option("--force", is_flag=True, help="Overwrite existing source notebooks.")
def release_nbgrader(course_dir: Path, topics: tuple[str, ...], course: Path | None, force: bool) -> None:
    """Write an nbgrader course folder to COURSE_DIR: source/<topic>/<topic>.ipynb per
    topic and an nbgrader_config.py that grades submissions with this grader."""
    from .release import nbgrader_release

    _exit(lambda: nbgrader_release.main(course_dir=course_dir, topics=topics, course=course, force=force))


def _exit(action) -> None:  # type: ignore[no-untyped-def]
    try:
        code = action()
    except GraderError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    sys.exit(code)
