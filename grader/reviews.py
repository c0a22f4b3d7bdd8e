"""Reviews in the gradebook: a person's scores of manual answers, and overrides of automatic
scores (with a reason), as events in one table (``reviews``).

A review is of one answer: a manual answer by the digest of its text (``text:<sha256>``), an
automatic score by the submission's file (``file:<sha256>``), so that a regrade of an
unchanged answer keeps its reviews. The current score of an exercise is its latest review's.
Every review is one transaction (``BEGIN IMMEDIATE``); a review says which review it replaces
(``based_on``, 0 for the first) and is refused when another was saved in between: two
reviewers at once never overwrite each other's work unseen.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from .errors import GraderError
from .results import AWAITING, ExerciseResult, GradeResult, Status

REVIEWS_SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY,
    student TEXT NOT NULL,
    assignment TEXT NOT NULL,
    exercise TEXT NOT NULL,
    answer TEXT NOT NULL,              -- 'text:<sha256>' of a manual answer, 'file:<sha256>'
    grading INTEGER NOT NULL REFERENCES gradings (id),  -- the grading it was made on
    items TEXT NOT NULL,               -- the rubric items checked (JSON list of their texts)
    points REAL NOT NULL,
    comment TEXT NOT NULL,
    reason TEXT NOT NULL,              -- an override of an automatic score: why ('' otherwise)
    reviewer TEXT NOT NULL,
    reviewed_at TEXT NOT NULL,
    based_on INTEGER NOT NULL,         -- the review it replaces (0: the first)
    UNIQUE (student, assignment, exercise, answer, based_on)
);
CREATE INDEX IF NOT EXISTS reviews_answer ON reviews (student, assignment, exercise, answer);
"""
MAX_COMMENT = 20_000


class StaleReview(GraderError):
    """A review based on a version of the answer's reviews that is no longer the latest."""


@dataclass(frozen=True)
class Review:
    """One review event."""

    id: int
    student: str
    assignment: str
    exercise: str
    answer: str
    grading: int
    items: tuple[str, ...]
    points: float
    comment: str
    reason: str
    reviewer: str
    reviewed_at: str
    based_on: int

    def as_data(self) -> dict[str, Any]:
        """What a result and its report keep of the review."""
        return {
            "id": self.id,
            "items": list(self.items),
            "points": self.points,
            "comment": self.comment,
            "reason": self.reason,
            "reviewer": self.reviewer,
            "reviewed_at": self.reviewed_at,
        }


def review_line(review: Review, points: float) -> str:
    """One line of a review, for a table: ``2 / 3 by ta1 [States it] "solve it"``; an
    override says its reason."""
    line = f"{review.points:g} / {points:g} by {review.reviewer}"
    if review.reason:
        line += f" (override: {review.reason})"
    if review.items:
        line += " [" + "; ".join(review.items) + "]"
    return line + (f' "{review.comment}"' if review.comment else "")


def pseudonym_key(db: sqlite3.Connection) -> bytes:
    """The gradebook's key of students' pseudonyms on the review page (made once, kept in
    its meta table: a student's pseudonym is the same on every run)."""
    found = db.execute("SELECT value FROM meta WHERE key='pseudonym_key'").fetchone()
    if found is None:
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('pseudonym_key', ?)", (secrets.token_hex(32),)
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        found = db.execute("SELECT value FROM meta WHERE key='pseudonym_key'").fetchone()
    return bytes.fromhex(found[0])


def pseudonym(key: bytes, student: str) -> str:
    """A student's stable pseudonym (``student-1a2b3c``): the reviewer does not see whose."""
    return "student-" + hmac.new(key, student.encode(), hashlib.sha256).hexdigest()[:6]


def submission_token(key: bytes, student: str, assignment: str, sha256: str) -> str:
    """A submission's address on the review page: not its grading's id, whose order (graded in
    the order of the students' names) would say whose it is, and the same after a regrade
    (which makes new gradings of the same file), so a page open meanwhile still saves."""
    text = f"submission:{student}\0{assignment}\0{sha256}"
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:16]


def text_answer(text: str) -> str:
    """The answer id of a manual answer: the digest of its text."""
    return "text:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def answer_of(ex: ExerciseResult, sha256: str) -> str:
    """The answer id a review of this (judge's, unreviewed) exercise result is about."""
    return text_answer(ex.answer) if ex.status == AWAITING else "file:" + sha256


_COLUMNS = (
    "id, student, assignment, exercise, answer, grading, items, points, comment, reason,"
    " reviewer, reviewed_at, based_on"
)


def _review(row: tuple[Any, ...]) -> Review:
    fields = [*row[:6], tuple(json.loads(row[6])), *row[7:]]
    return Review(*fields)


def latest_reviews(
    db: sqlite3.Connection, pairs: Iterable[tuple[str, str]] | None = None
) -> dict[tuple[str, str, str, str], Review]:
    """The latest review of every answer (of these (student, assignment) pairs; None: all),
    by (student, assignment, exercise, answer)."""
    wanted = None if pairs is None else set(pairs)
    latest: dict[tuple[str, str, str, str], Review] = {}
    for row in db.execute(f"SELECT {_COLUMNS} FROM reviews ORDER BY id"):
        if wanted is not None and (row[1], row[2]) not in wanted:
            continue
        latest[(row[1], row[2], row[3], row[4])] = _review(row)
    return latest


def history(
    db: sqlite3.Connection, student: str, assignment: str, exercise: str, answer: str
) -> list[Review]:
    """Every review of one answer, oldest first."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM reviews WHERE student=? AND assignment=? AND exercise=?"
        " AND answer=? ORDER BY id",
        (student, assignment, exercise, answer),
    )
    return [_review(r) for r in rows]


def add_review(
    db: sqlite3.Connection,
    grading: int,
    exercise: str,
    *,
    points: float,
    based_on: int,
    reviewer: str,
    items: tuple[str, ...] = (),
    comment: str = "",
    reason: str = "",
) -> Review:
    """Record a review of one exercise of a grading, in one transaction (``BEGIN
    IMMEDIATE``: one writer at a time). ``based_on`` is the id of the latest review the
    reviewer saw (0: none); another review saved since makes it a ``StaleReview``. A score
    of an automatic exercise is an override and needs a ``reason``.

    Raises GraderError for an unknown grading or exercise, points out of range, a missing
    reason; StaleReview when the review is based on a stale version."""
    reviewer, comment, reason = reviewer.strip(), comment.strip(), reason.strip()
    if not reviewer:
        raise GraderError("a review needs the reviewer's name")
    if len(comment) > MAX_COMMENT or len(reason) > MAX_COMMENT:
        raise GraderError(f"a comment is at most {MAX_COMMENT} characters")
    db.execute("BEGIN IMMEDIATE")
    try:
        review = _add(db, grading, exercise, points, based_on, reviewer, items, comment, reason)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return review


def _add(
    db: sqlite3.Connection,
    grading: int,
    exercise: str,
    points: float,
    based_on: int,
    reviewer: str,
    items: tuple[str, ...],
    comment: str,
    reason: str,
) -> Review:
    row = db.execute(
        "SELECT s.student, s.assignment, s.sha256, g.result FROM gradings g"
        " JOIN submissions s ON g.submission = s.id WHERE g.id=?",
        (grading,),
    ).fetchone()
    if row is None or row[3] is None:
        raise GraderError(f"grading {grading} has no graded result to review")
    student, assignment, sha256 = row[0], row[1], row[2]
    result = GradeResult.from_dict(json.loads(row[3]))
    ex = next((e for e in result.exercises if e.id == exercise), None)
    if ex is None:
        raise GraderError(f"grading {grading} has no exercise {exercise!r}")
    if not 0 <= points <= ex.points:
        raise GraderError(f"{exercise}: {points:g} points is not between 0 and {ex.points:g}")
    if ex.status != AWAITING and not reason:
        raise GraderError(f"{exercise} is scored automatically: an override needs a reason")
    answer = answer_of(ex, sha256)
    latest = db.execute(
        "SELECT id, reviewer, reviewed_at FROM reviews WHERE student=? AND assignment=?"
        " AND exercise=? AND answer=? ORDER BY id DESC LIMIT 1",
        (student, assignment, exercise, answer),
    ).fetchone()
    if (latest[0] if latest else 0) != based_on:
        who = f"{latest[1]} at {latest[2]}" if latest else "nobody (it was removed)"
        raise StaleReview(
            f"not saved: this answer was reviewed meanwhile (by {who}); "
            "reload to see that review, then save yours again"
        )
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    cursor = db.execute(
        f"INSERT INTO reviews ({_COLUMNS.partition(', ')[2]})"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            student,
            assignment,
            exercise,
            answer,
            grading,
            json.dumps(list(items)),
            round(points, 4),
            comment,
            reason,
            reviewer,
            now,
            based_on,
        ),
    )
    rid = int(cursor.lastrowid or 0)
    return Review(
        rid,
        student,
        assignment,
        exercise,
        answer,
        grading,
        tuple(items),
        round(points, 4),
        comment,
        reason,
        reviewer,
        now,
        based_on,
    )


def reviewed_exercise(ex: ExerciseResult, review: Review) -> ExerciseResult:
    """An exercise result with a review's score (its status from the points)."""
    status: Status = (
        "passed" if review.points >= ex.points else "partial" if review.points else "failed"
    )
    if review.reason:
        message = f"score set by {review.reviewer}: {review.reason}"
    else:
        message = f"reviewed by {review.reviewer}"
    return replace(
        ex,
        score=review.points,
        status=status,
        message=message,
        hints=(),
        review=review.as_data(),
    )


def with_reviews(
    result: GradeResult,
    student: str,
    sha256: str,
    latest: Mapping[tuple[str, str, str, str], Review],
) -> GradeResult:
    """A stored result (of ``student``'s file ``sha256``) with the latest reviews of its
    answers applied: reviewed manual answers count (in the score and the maximum), overrides
    replace automatic scores."""
    exercises = []
    score, max_score, awaiting = result.score, result.max_score, result.awaiting
    for ex in result.exercises:
        review = latest.get((student, result.assignment, ex.id, answer_of(ex, sha256)))
        if review is None:
            exercises.append(ex)
            continue
        if ex.status == AWAITING:
            max_score, awaiting = max_score + ex.points, awaiting - ex.points
        score += review.points - ex.score
        exercises.append(reviewed_exercise(ex, review))
    if exercises == list(result.exercises):
        return result
    return replace(
        result,
        exercises=tuple(exercises),
        score=round(score, 4),
        max_score=round(max_score, 4),
        awaiting=round(max(awaiting, 0.0), 4),
    )
