"""Course spec -> student and solution notebooks (nbformat). Pure: no disk access."""

from __future__ import annotations

import functools
from typing import Any, Literal

import jinja2
import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from .errors import RenderError
from .kinds import KINDS
from .spec import Assignment, Course, Exercise

Flavor = Literal["student", "solution", "handout"]

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
_ENV = jinja2.Environment(
    undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
)


def _bmatrix(rows: Any) -> str:
    """A matrix (a list of rows) as LaTeX: ``\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}``."""
    body = r" \\ ".join(" & ".join(str(v) for v in row) for row in rows)
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"


_ENV.filters["py"] = repr  # a value as Python source: {{ kernel | py }}
_ENV.filters["bmatrix"] = _bmatrix

HEADER = """\
# {{ course }} — {{ assignment.title }}

**Assignment `{{ assignment.id }}`** · {{ max_score }} points
{%- if due %} · due {{ due }}{% endif %}
{%- if student %} · made for `{{ student }}`: your own numbers, hand in this notebook{% endif %}

Write your answers in the cells marked *✏️ Your answer*: each must assign the variable its
exercise names. Only those cells are graded; every other cell is restored from the course
release when your notebook is graded, so editing them changes nothing.

Check your work at any time with:

    grade {{ assignment.id }}.ipynb
"""


CHECKS = """\
**Checking as you go.** After each answer, run the `check(...)` cell below it: it says
whether your answer has the expected form (type, length, finite values...) and, for some
exercises, whether it is right. The rest is decided when your notebook is graded. You can
also run `grade` on this notebook in this folder to get the whole report.
"""


def render_assignment(
    course: Course,
    assignment: Assignment,
    flavor: Flavor,
    solutions: dict[str, str] | None = None,
    owner: dict[str, str] | None = None,
) -> NotebookNode:
    """The notebook of one assignment.

    Args:
        course: the loaded course.
        assignment: which assignment to render.
        flavor: ``"student"`` (starter answer cells), ``"solution"``, or ``"handout"`` (the
            student notebook with a ``check(...)`` cell after every answer cell).
        solutions: exercise id -> reference answer cell source; required for ``"solution"``.
        owner: for a notebook made for one student (a roster build): ``student``,
            ``variant`` and ``signature``, recorded in the metadata.
    """
    if flavor == "solution":
        missing = [e for e in assignment.exercises if e not in (solutions or {})]
        if missing:
            raise RenderError(f"no reference solution for: {', '.join(missing)}")
    cells: list[NotebookNode] = [
        _cell(
            new_markdown_cell(
                _render(
                    HEADER,
                    "the notebook header",
                    course=course.name,
                    assignment=assignment,
                    max_score=f"{assignment.max_score(course):g}",
                    due=_due(assignment),
                    student=(owner or {}).get("student", ""),
                )
            ),
            assignment.id,
            "header",
        )
    ]
    if flavor == "handout":
        cells.append(_cell(new_markdown_cell(CHECKS), assignment.id, "intro"))
        cells.append(
            _cell(new_code_cell("from grader.inkernel.public import check"), assignment.id, "check")
        )
    seen_topics: set[str] = set()
    for n, eid in enumerate(assignment.exercises, start=1):
        ex = course.exercises[eid]
        if ex.topic not in seen_topics:
            seen_topics.add(ex.topic)
            topic = course.topics[ex.topic]
            intro = f"## {topic.title}\n\n{topic.intro}".rstrip() + "\n"
            cells.append(_cell(new_markdown_cell(intro), topic.id, "intro"))
            if topic.setup.strip():
                cells.append(_cell(new_code_cell(topic.setup.rstrip("\n")), topic.id, "setup"))
        cells.append(_cell(new_markdown_cell(_prompt(ex, n, course.variant)), eid, "prompt"))
        source = solutions[eid] if flavor == "solution" and solutions else ex.starter
        markdown = ex.answer.kind == "manual" and ex.answer["cell"] == "markdown"
        new_cell = new_markdown_cell if markdown else new_code_cell
        cells.append(_cell(new_cell(source.rstrip("\n")), eid, "answer"))
        if flavor == "handout" and ex.answer.kind != "manual":
            cells.append(_cell(new_code_cell(f"check({eid!r})"), eid, "check"))
    nb = new_notebook(cells=_unique_ids(cells))
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["grader"] = {
        "course": course.name,
        "assignment": assignment.id,
        "version": course.fingerprint,
        "flavor": flavor,
        **(owner or {}),
    }
    nbformat.validate(nb)
    return nb


def _unique_ids(cells: list[NotebookNode]) -> list[NotebookNode]:
    """The cells with no id twice: an assignment, a topic and an exercise may share an id
    (assignment ``sq`` of topic ``sq``), and nbformat would replace a repeated id by a random
    one (a build would then differ from the last); a repeat gets ``-2``, ``-3``... instead.
    Answer cells keep theirs (exercise ids are unique, and submissions are matched by it)."""
    taken = {c.id for c in cells if c.metadata["grader"]["role"] == "answer"}
    for cell in cells:
        if cell.metadata["grader"]["role"] == "answer":
            continue
        base, n = cell.id, 1
        while cell.id in taken:
            n += 1
            cell.id = f"{base[: 64 - len(str(n)) - 1]}-{n}"
        taken.add(cell.id)
    return cells


def answer_cell_id(exercise_id: str) -> str:
    """The nbformat cell id of an exercise's answer cell (stable across builds; ids are at most
    56 characters, so it fits nbformat's 64)."""
    return f"answer-{exercise_id}"


def _cell(cell: NotebookNode, gid: str, role: str) -> NotebookNode:
    cell.metadata["grader"] = {"id": gid, "role": role}
    cell.id = answer_cell_id(gid) if role == "answer" else f"{role}-{gid}"[:64]
    if role != "answer":
        # Jupyter honours these: the student cannot edit or delete trusted cells by accident.
        cell.metadata["editable"] = False
        cell.metadata["deletable"] = False
    return cell


def prompt_text(ex: Exercise, variant: str = "") -> str:
    """An exercise's prompt as its students read it (the template rendered), with what its
    kind adds (a choice's options, in the order of ``variant``)."""
    kind = KINDS[ex.answer.kind]
    extra = kind.prompt(ex.answer.options, variant) if kind.prompt is not None else ""
    text = _render(
        ex.prompt,
        f"the prompt of {ex.id!r} ({ex.path}:{ex.line})",
        **ex.values,
        id=ex.id,
        points=f"{ex.points:g}",
        answer=ex.answer,
        title=ex.title,
    )
    return f"{text.rstrip()}\n\n{extra}\n" if extra else text


def _prompt(ex: Exercise, n: int, variant: str) -> str:
    body = prompt_text(ex, variant)
    points = f"{ex.points:g} point" + ("" if ex.points == 1 else "s")
    return (
        f"### {n}. {ex.title} ({points})\n\n{body.strip()}\n\n*✏️ Your answer:* {_answer_line(ex)}"
    )


def _answer_line(ex: Exercise) -> str:
    if ex.answer.kind == "manual":
        return "write it in the cell below: it is reviewed by a person (not run)."
    if ex.answer.kind == "function":
        return f"define `{ex.answer.name}` in the cell below."
    return f"assign it to `{ex.answer.name}` in the cell below."


def render_text(template: str, what: str, **context: object) -> str:
    """A jinja2 template rendered with ``context``; a RenderError names ``what`` it is."""
    return _render(template, what, **context)


@functools.lru_cache(maxsize=4096)
def _template(text: str) -> jinja2.Template:
    return _ENV.from_string(text)  # a class of variants renders the same texts again


def _render(template: str, what: str, **context: object) -> str:
    try:
        return _template(template).render(**context)
    except jinja2.TemplateError as e:
        raise RenderError(f"cannot render {what}: {e}") from None
    except Exception as e:  # an expression of the template failed on these values
        raise RenderError(f"cannot render {what}: {type(e).__name__}: {e}") from None


def _due(assignment: Assignment) -> str:
    return assignment.due.strftime("%Y-%m-%d %H:%M %Z").strip() if assignment.due else ""
