"""Results -> reports: one self-contained HTML page, Gradescope results.json, JUnit XML, terminal.

Pure functions of a :class:`~grader.results.GradeResult` with no grading logic; only
:func:`write_reports` touches the disk. Text from the student is cleaned (ANSI codes and
characters invalid in XML 1.0 removed) and escaped by each format (jinja2 autoescape,
ElementTree, rich ``Text``).

Modules: ``text`` (cleaning and one-line formatting), ``views`` (expected vs got as data),
``html`` (the jinja2 page), ``formats`` (plain text, results.json, JUnit XML, terminal, files).
"""

from __future__ import annotations

from .formats import (
    exercise_text,
    junit_xml,
    results_json,
    summary_text,
    terminal_table,
    write_reports,
)
from .html import render_html
from .text import clean_text, short_traceback

__all__ = [
    "clean_text",
    "exercise_text",
    "junit_xml",
    "render_html",
    "results_json",
    "short_traceback",
    "summary_text",
    "terminal_table",
    "write_reports",
]
