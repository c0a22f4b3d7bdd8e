"""``grade review``: the review page of manual answers (``grader.review_app``), thin."""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from .cli_options import assignment_option, course_option, db_option, debug_option
from .locations import existing_gradebook, find_course


@click.command("review")
@course_option
@assignment_option("Only this assignment (default: every one with manual exercises).")
@db_option
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option("--reviewer", default=None, help="Your name in the reviews (default: your login).")
@click.option("--names", is_flag=True, help="Show the students' ids (default: pseudonyms).")
@debug_option
def review_cmd(
    course: str | None,
    assignment: str | None,
    db: Path | None,
    port: int,
    reviewer: str | None,
    names: bool,
) -> None:
    """Review the manual answers in the browser: a page on 127.0.0.1 only.

    One answer at a time across the class (students by a stable pseudonym unless --names),
    its rubric as checkboxes (keys 1..9), a comment, its history, the next ungraded one (n),
    the previous (p), save (s); a submission's automatic scores may be overridden with a
    reason. Every save is one transaction in the gradebook; two reviewers at once are safe.

    Example:

        grade review --assignment ps1 --reviewer ta1
    """
    from .review_app import create_app, serve

    spec = find_course(course)
    ids = [spec.assignment(assignment).id] if assignment else [a.id for a in spec.assignments]
    path = existing_gradebook(db, spec)
    app = create_app(spec, path, ids, reviewer or getpass.getuser(), names)
    server = serve(app, port)
    click.echo(f"Reviewing at http://127.0.0.1:{server.server_port}/ (Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
