"""``grade review``: the review page, a small Flask app on the loopback only.

One manual answer at a time across the class (by pseudonym unless ``names``), its rubric as
checkboxes (keys 1..9 toggle them, n: next ungraded, p: previous, s: save), a comment, the
answer's history and the progress; a submission's automatic scores may be overridden with a
reason. Every save is one transaction in the gradebook (``grader.reviews``); a save based on
a review that is no longer the latest (another tab, another reviewer) is refused and said.
A session's CSRF token guards every form; requests for another host are refused (the page
answers to 127.0.0.1 and localhost only). Student text is escaped everywhere: a markdown
answer is rendered by markdown-it with raw HTML off, and code is shown as text.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2

from .errors import GraderError
from .gradebook import Gradebook
from .review_queue import (
    Item,
    automatic_scores,
    grading_of,
    item_history,
    review_queue,
    submissions,
)
from .reviews import StaleReview
from .spec import Course

TEMPLATES_DIR = Path(__file__).parent / "templates"
LOOPBACK = "127.0.0.1"
HOSTS = ("127.0.0.1", "localhost")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'none'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every {{ }} is escaped: student text never becomes markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_markdown(text: str) -> str:
    """A markdown answer as HTML: raw HTML in it escaped, links only to safe schemes."""
    from markdown_it import MarkdownIt

    html: str = MarkdownIt("js-default").render(text)
    return html


def create_app(
    course: Course,
    gradebook: Path,
    assignments: Sequence[str],
    reviewer: str,
    names: bool = False,
) -> Any:
    """The review app (a Flask app) of ``assignments``' manual answers in ``gradebook``."""
    try:
        from flask import Flask, Response, abort, redirect, request, session
    except ImportError:  # pragma: no cover - an extra
        raise GraderError(
            "grade review needs Flask: pip install 'grade-notebooks[review]'"
        ) from None

    app = Flask(__name__)
    app.secret_key = secrets.token_bytes(32)  # sessions (the CSRF token) last one run
    app.config.update(
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_HTTPONLY=True,
        # cookies do not tell ports apart: two review pages at once (or one restarted) each
        # keep their own session, so neither one's CSRF token overwrites the other's
        SESSION_COOKIE_NAME=f"grade-review-{secrets.token_hex(4)}",
    )
    script = (TEMPLATES_DIR / "review.js").read_text(encoding="utf-8")

    def book() -> Gradebook:
        return Gradebook(gradebook)  # a connection per request: requests run in threads

    def csrf() -> str:
        if "csrf" not in session:
            session["csrf"] = secrets.token_hex(16)
        token: str = session["csrf"]
        return token

    @app.before_request
    def guard() -> None:
        if (request.host.rpartition(":")[0] or request.host) not in HOSTS:
            abort(403)  # another host name: a page rebinding its DNS to the loopback
        if request.method == "POST":
            sent = request.form.get("csrf", "")
            if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
                abort(403)

    @app.after_request
    def headers(response: Any) -> Any:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    def page(template: str, **context: Any) -> Any:
        html = _environment().get_template(template).render(csrf=csrf(), **context)
        return Response(html, mimetype="text/html")

    @app.get("/review.js")
    def review_js() -> Any:
        return Response(script, mimetype="text/javascript")

    @app.get("/")
    def index() -> Any:
        with book() as gb:
            queue = review_queue(course, gb, assignments, names)
            listed = submissions(gb, assignments, names) if not queue.items else []
        first = queue.next_ungraded() or (queue.items[0] if queue.items else None)
        if first is not None:
            return redirect(f"/review/{first.key}")
        return page(
            "review.html.j2",
            item=None,
            total=0,
            done=0,
            reviewer=reviewer,
            error=False,
            submissions=listed,
            message="",
        )

    def answer_page(
        grading: int,
        exercise: str,
        message: str = "",
        status: int = 200,
        kept: tuple[set[str], str] | None = None,
    ) -> Any:
        """An answer's page; ``kept``: a refused save's items and comment, shown again (over
        the latest review, which the history shows) so that nothing typed is lost."""
        with book() as gb:
            queue = review_queue(course, gb, assignments, names)
            at = queue.find(grading, exercise)
            if at is None:
                abort(404)
            item = queue.items[at]
            past = item_history(gb, item)
        checked = set(item.latest.items) if item.latest else set()
        comment = item.latest.comment if item.latest else ""
        if kept is not None:
            checked, comment = kept
        following = queue.next_ungraded(at)
        response = page(
            "review.html.j2",
            item=item,
            at=at + 1,
            total=len(queue.items),
            done=queue.reviewed(),
            rubric=[(r, r["item"] in checked) for r in item.rubric],
            comment=comment,
            based_on=item.latest.id if item.latest else 0,
            history=past,
            previous=queue.items[at - 1].key if at > 0 else "",
            next_ungraded=following.key if following and following is not item else "",
            rendered=render_markdown(item.answer) if item.cell == "markdown" else "",
            message=message,
            error=status >= 400,
            reviewer=reviewer,
        )
        response.status_code = status
        return response

    def grading(token: str) -> int:
        with book() as gb:
            found = grading_of(gb, assignments, token)
        if found is None:  # e.g. a page from before a regrade, which made new gradings
            gone = page(
                "review.html.j2",
                item=None,
                total=0,
                done=0,
                reviewer=reviewer,
                error=True,
                submissions=[],
                message="not found: this submission is no longer current (graded again?); "
                "start again from the review page",
            )
            gone.status_code = 404
            abort(gone)
        return found

    @app.get("/review/<token>/<exercise>")
    def show(token: str, exercise: str) -> Any:
        saved = request.args.get("saved") == "1"
        return answer_page(grading(token), exercise, "Saved." if saved else "")

    @app.post("/review/<token>/<exercise>")
    def save(token: str, exercise: str) -> Any:
        at_grading = grading(token)
        with book() as gb:
            queue = review_queue(course, gb, assignments, names)
            at = queue.find(at_grading, exercise)
            if at is None:
                abort(404)
            item = queue.items[at]
            wanted = set(request.form.getlist("item"))
            chosen = [r for i, r in enumerate(item.rubric) if str(i) in wanted]
            try:
                gb.review(
                    at_grading,
                    exercise,
                    points=sum(r["points"] for r in chosen),
                    based_on=_int(request.form.get("based_on", "")),
                    reviewer=reviewer,
                    items=tuple(r["item"] for r in chosen),
                    comment=request.form.get("comment", ""),
                )
            except GraderError as e:
                status = 409 if isinstance(e, StaleReview) else 400
                kept = ({r["item"] for r in chosen}, request.form.get("comment", ""))
                return answer_page(at_grading, exercise, str(e), status, kept)
        return redirect(f"/review/{item.key}?saved=1", 303)

    def submission_page(token: str, number: int, message: str = "", status: int = 200) -> Any:
        with book() as gb:
            student, assignment, scored = automatic_scores(gb, number)
            queue = review_queue(course, gb, assignments, names)
        if not student or assignment not in assignments:
            abort(404)
        mine = [it for it in queue.items if it.grading == number]
        shown = mine[0].name if mine else (student if names else "this submission")
        response = page(
            "review_submission.html.j2",
            token=token,
            name=shown,
            assignment=assignment,
            scored=scored,
            message=message,
            reviewer=reviewer,
        )
        response.status_code = status
        return response

    @app.get("/submission/<token>")
    def submission(token: str) -> Any:
        saved = request.args.get("saved") == "1"
        return submission_page(token, grading(token), "Saved." if saved else "")

    @app.post("/override/<token>/<exercise>")
    def override(token: str, exercise: str) -> Any:
        number = grading(token)
        with book() as gb:
            _, assignment, _ = automatic_scores(gb, number)
            if assignment not in assignments:
                abort(404)
            try:
                gb.review(
                    number,
                    exercise,
                    points=_number(request.form.get("points", "")),
                    based_on=_int(request.form.get("based_on", "")),
                    reviewer=reviewer,
                    comment=request.form.get("comment", ""),
                    reason=request.form.get("reason", ""),
                )
            except StaleReview as e:
                return submission_page(token, number, str(e), 409)
            except GraderError as e:
                return submission_page(token, number, str(e), 400)
        return redirect(f"/submission/{token}?saved=1", 303)

    return app


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise GraderError(f"not a whole number: {text[:20]!r}") from None


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise GraderError(f"not a number of points: {text[:20]!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise GraderError("not a number of points")
    return value


def serve(app: Any, port: int = 0) -> Any:
    """A threaded server of the app on the loopback (port 0: any free one); call its
    ``serve_forever()``, read its ``server_port``, ``shutdown()`` it."""
    from werkzeug.serving import make_server

    return make_server(LOOPBACK, port, app, threaded=True)


__all__ = ["Item", "create_app", "render_markdown", "serve"]
