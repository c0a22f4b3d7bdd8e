"""Grading in a CI job: a Markdown step summary, annotations, an exit code by policy, and the
workflows that ``grade init-ci`` writes.

Everything a student wrote that reaches the summary or an annotation is made inert: one
line, no escape sequences, Markdown and HTML syntax (character references included) escaped,
no autolink or mention (``_unlinked``), and the annotation data percent-encoded the way GitHub
Actions reads it, so a message cannot open a new command.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from .errors import GraderError
from .report.formats import _write_atomic, junit_xml
from .report.text import _points, _score_cell, awaiting_note
from .results import GradeResult
from .sanitize import one_line

WORKFLOWS = {"github": ".github/workflows/grade.yml", "gitlab": ".gitlab-ci.yml"}
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+!|~>])")
# Every place GitHub would make a link or a mention of plain text: GFM's extended autolinks
# (a scheme's "://" such as http://, https://, ftp://; "www."; "mailto:" and "xmpp:"; an
# e-mail address, found by its "@"), GitHub's mentions (@user, @org/team) and issue
# references (#12). Its "<...>" autolinks need a "<", which is escaped. A word joiner (zero
# width, invisible) at each of these places breaks the pattern and reads the same.
_AUTOLINK = re.compile(
    r"(?=:/)"  # before a scheme's "://"
    r"|(?i:(?<=www)(?=\.)|(?<=mailto)(?=:)|(?<=xmpp)(?=:))"
    r"|(?<=@)"  # an e-mail address, a mention
    r"|(?<=#)(?=\d)"  # an issue
)
_JOINER = "\u2060"


def below_threshold(result: GradeResult, threshold: str | None) -> str:
    """'' when the score meets ``threshold`` (points, or a percentage such as ``80%``), else
    a one-line reason to fail the job."""
    if not threshold:
        return ""
    text = threshold.strip()
    try:
        if text.endswith("%"):
            needed = float(text[:-1]) / 100 * result.max_score
        else:
            needed = float(text)
    except ValueError:
        raise GraderError(f"--fail-under: {threshold!r} is not a score or a percentage") from None
    if result.score + 1e-9 >= needed:
        return ""
    return (
        f"{result.submission}: {_points(result.score)} / {_points(result.max_score)} is under "
        f"the required {text}"
    )


def markdown_summary(result: GradeResult) -> str:
    """A Markdown summary for ``$GITHUB_STEP_SUMMARY``: the total and one row an exercise."""
    lines = [
        f"### {_md(result.assignment)}: {_md(result.submission)}",
        "",
        f"**{_points(result.score)} / {_points(result.max_score)} points{awaiting_note(result)}**",
        "",
        "| # | Exercise | Status | Points | Feedback |",
        "|---|---|---|---|---|",
    ]
    for number, ex in enumerate(result.exercises, 1):
        feedback = ex.error.summary if ex.error else ex.message
        lines.append(
            f"| {number} | {_md(ex.title)} | {ex.status} | {_score_cell(ex)} | "
            f"{_md(feedback, 300)} |"
        )
    for notice in result.notices:
        lines.append(f"\n> {_md(notice)}")
    return "\n".join(lines) + "\n\n"


def github_annotations(result: GradeResult, notebook: str) -> list[str]:
    """GitHub Actions workflow commands: an error per exercise with an error, a warning per
    exercise short of full marks, a notice with the total. Only their data is student text."""
    out = []
    for ex in result.exercises:
        if ex.status in ("passed", "awaiting review"):  # a person scores it: no warning
            continue
        level = "error" if ex.status in ("error", "missing") else "warning"
        detail = ex.error.summary if ex.error else ex.message or ex.status
        title = f"{ex.id}: {_points(ex.score)}/{_points(ex.points)}"
        out.append(
            f"::{level} file={_property(notebook)},title={_property(_unlinked(title))}::"
            f"{_data(_unlinked(detail))}"
        )
    total = f"{_points(result.score)} / {_points(result.max_score)} points{awaiting_note(result)}"
    out.append(f"::notice title={_property(_unlinked(result.assignment))}::{_data(total)}")
    return out


def write_junit(result: GradeResult, out: Path) -> Path:
    """Write ``out/junit.xml`` (a testcase per exercise), atomically; returns its path."""
    path = out / "junit.xml"
    _write_atomic(path, junit_xml(result))
    return path


def append_step_summary(result: GradeResult, environ: Mapping[str, str] = os.environ) -> bool:
    """Append the Markdown summary to ``$GITHUB_STEP_SUMMARY`` when the job sets it; returns
    whether it did."""
    return _append(markdown_summary(result), environ)


def _append(text: str, environ: Mapping[str, str]) -> bool:
    summary = environ.get("GITHUB_STEP_SUMMARY")
    if not summary:
        return False
    with open(summary, "a", encoding="utf-8") as handle:
        handle.write(text)
    return True


CI_FILES = ("report.html", "results.json", "junit.xml")  # what ``grade ci`` writes in OUT


def clear_previous(out: Path) -> None:
    """Remove what an earlier ``grade ci`` wrote in ``out`` (only its own files; a link is
    removed, never followed), so a run that grades nothing leaves no old score behind."""
    for name in CI_FILES:
        path = out / name
        if path.is_symlink() or path.is_file():
            path.unlink()


def refusal_summary(notebook: str, reason: str) -> str:
    """The step summary of a notebook that could not be graded: which, and why."""
    return f"### {_md(notebook)}: not graded\n\n**0 points: {_md(reason, 600)}**\n\n"


def refusal_annotations(
    notebook: str, reason: str, environ: Mapping[str, str] = os.environ
) -> list[str]:
    """The annotation of a notebook that could not be graded (on GitHub Actions; else none)."""
    if environ.get("GITHUB_ACTIONS") != "true":
        return []
    return [
        f"::error file={_property(notebook)},title=not graded::{_data(_unlinked(one_line(reason)))}"
    ]


def append_refusal(notebook: str, reason: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Append the refusal's summary to ``$GITHUB_STEP_SUMMARY`` when the job sets it."""
    return _append(refusal_summary(notebook, reason), environ)


def job_annotations(
    result: GradeResult, notebook: str, environ: Mapping[str, str] = os.environ
) -> list[str]:
    """The annotations to print: GitHub Actions' workflow commands when running there, else
    none (elsewhere they would be noise in the log)."""
    if environ.get("GITHUB_ACTIONS") != "true":
        return []
    return github_annotations(result, notebook)


def workflow(kind: str) -> str:
    """The text of the workflow ``grade init-ci`` writes (``github`` or ``gitlab``)."""
    name = {"github": "github.yml", "gitlab": "gitlab-ci.yml"}[kind]
    return resources.files("grader").joinpath("templates", "ci", name).read_text(encoding="utf-8")


def write_workflow(kind: str, root: Path, force: bool = False) -> Path:
    """Write the workflow into a course repository (refusing to overwrite one)."""
    path = root / WORKFLOWS[kind]
    if path.exists() and not force:
        raise GraderError(f"{path} exists (pass --force to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(workflow(kind), encoding="utf-8")
    return path


def _md(text: str, limit: int | None = None) -> str:
    """Student text as inert Markdown (at most ``limit`` characters of it)."""
    text = _unlinked(one_line(text)[:limit])
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN.sub(r"\\\1", text)


def _unlinked(text: str) -> str:
    """``text`` with a word joiner wherever GitHub would make a link or a mention of it."""
    return _AUTOLINK.sub(_JOINER, text)


def _data(text: str) -> str:
    return one_line(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
