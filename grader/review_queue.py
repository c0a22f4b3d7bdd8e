"""What the review page shows, read from the gradebook: every manual answer of the class's
current gradings (one exercise across the class, then the next), each with its rubric, its
latest review and its history, and the student's pseudonym; and a submission's automatic
scores, which a reviewer may override (``grader.reviews``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .gradebook import Gradebook
from .policies import attempt_order
from .results import AWAITING, Attempt, ExerciseResult
from .reviews import (
    Review,
    answer_of,
    history,
    latest_reviews,
    pseudonym,
    pseudonym_key,
    submission_token,
)
from .spec import Course


@dataclass(frozen=True)
class Item:
    """One manual answer to review."""

    grading: int
    token: str  # its submission's address on the page (``grader.reviews.submission_token``)
    student: str
    name: str  # what the page calls the student: a pseudonym, or the id with --names
    assignment: str
    exercise: str
    title: str
    points: float
    cell: str  # "markdown" or "code"
    rubric: tuple[dict[str, Any], ...]
    answer: str  # the text handed in
    answer_id: str
    latest: Review | None

    @property
    def key(self) -> str:
        """The item's address on the page: ``<token>/<exercise>``."""
        return f"{self.token}/{self.exercise}"


@dataclass(frozen=True)
class Queue:
    """The answers to review, in order, and where each is."""

    items: tuple[Item, ...]

    def find(self, grading: int, exercise: str) -> int | None:
        """The index of an item, if it is in the queue."""
        return next(
            (
                i
                for i, it in enumerate(self.items)
                if (it.grading, it.exercise) == (grading, exercise)
            ),
            None,
        )

    def reviewed(self) -> int:
        """How many have a review."""
        return sum(it.latest is not None for it in self.items)

    def next_ungraded(self, after: int = -1) -> Item | None:
        """The first item after ``after`` without a review (wrapping around), if any."""
        n = len(self.items)
        for step in range(1, n + 1):
            it = self.items[(after + step) % n]
            if it.latest is None:
                return it
        return None


def review_queue(
    course: Course, gb: Gradebook, assignments: Sequence[str], names: bool = False
) -> Queue:
    """Every manual answer of the current gradings of ``assignments``: by exercise (in the
    course's order), then by pseudonym, so the class is reviewed one question at a time and in
    no order that says whose."""
    key = pseudonym_key(gb.db)
    items = []
    latest = latest_reviews(gb.db)
    for aid in assignments:
        manual = [
            e
            for e in course.assignment(aid).exercises
            if course.exercises[e].answer.kind == "manual"
        ]
        if not manual:
            continue
        attempts = counted_attempts(course, gb.attempts(aid))
        results = {a.grading: gb.result(a.grading, reviewed=False) for a in attempts}
        for eid in manual:
            ex = course.exercises[eid]
            found = []
            for a in attempts:
                result = results[a.grading]
                stored = (
                    next((e for e in result.exercises if e.id == eid), None) if result else None
                )
                if stored is None or stored.status != AWAITING:
                    continue  # missing: nothing to read
                answer_id = answer_of(stored, a.sha256)
                shown = a.student if names else pseudonym(key, a.student)
                found.append(
                    Item(
                        a.grading,
                        submission_token(key, a.student, aid, a.sha256),
                        a.student,
                        shown,
                        aid,
                        eid,
                        ex.title,
                        ex.points,
                        ex.answer["cell"],
                        tuple(ex.answer["rubric"]),
                        stored.answer,
                        answer_id,
                        latest.get((a.student, aid, eid, answer_id)),
                    )
                )
            items += sorted(found, key=lambda it: (it.name, it.grading))
    return Queue(tuple(items))


def counted_attempts(course: Course, attempts: Sequence[Attempt]) -> list[Attempt]:
    """The graded attempts whose manual answers can count: with the course's ``attempts:
    best`` policy every one, else each student's latest (as ``grader.policies.finals``
    chooses it), so a resubmitted answer is not reviewed twice."""
    graded = [a for a in attempts if a.status == "graded"]
    if course.policies.attempts == "best":
        return graded
    latest: dict[str, Attempt] = {}
    for a in graded:
        known = latest.get(a.student)
        if known is None or attempt_order(a) >= attempt_order(known):
            latest[a.student] = a
    return [a for a in graded if latest[a.student] is a]


def submissions(
    gb: Gradebook, assignments: Sequence[str], names: bool = False
) -> list[tuple[str, str, str]]:
    """Every current grading of ``assignments`` as the page lists it: (assignment, the
    student's pseudonym or id, the grading's token), by assignment and name."""
    key = pseudonym_key(gb.db)
    rows = [
        (
            aid,
            a.student if names else pseudonym(key, a.student),
            submission_token(key, a.student, aid, a.sha256),
        )
        for aid in assignments
        for a in gb.attempts(aid)
        if a.status == "graded"
    ]
    return sorted(rows)


def grading_of(gb: Gradebook, assignments: Sequence[str], token: str) -> int | None:
    """The current grading (of ``assignments``) of the submission a page's token is the
    address of, if any: after a regrade, the new one."""
    key = pseudonym_key(gb.db)
    for aid in assignments:
        for a in gb.attempts(aid):
            if a.status == "graded" and submission_token(key, a.student, aid, a.sha256) == token:
                return a.grading
    return None


def item_history(gb: Gradebook, item: Item) -> list[Review]:
    """Every review of the item's answer, oldest first."""
    return history(gb.db, item.student, item.assignment, item.exercise, item.answer_id)


@dataclass(frozen=True)
class Scored:
    """An automatic exercise of a submission, and its latest override, if any."""

    exercise: ExerciseResult  # as the judge scored it
    latest: Review | None


def automatic_scores(gb: Gradebook, grading: int) -> tuple[str, str, list[Scored]]:
    """A submission's automatic exercises (which an override may rescore): its student,
    assignment, and each exercise with its latest override."""
    row = gb.db.execute(
        "SELECT s.student, s.assignment, s.sha256 FROM gradings g JOIN submissions s"
        " ON g.submission = s.id WHERE g.id=?",
        (grading,),
    ).fetchone()
    result = gb.result(grading, reviewed=False) if row else None
    if row is None or result is None:
        return "", "", []
    student, assignment, sha256 = row
    latest = latest_reviews(gb.db, [(student, assignment)])
    scored = [
        Scored(e, latest.get((student, assignment, e.id, answer_of(e, sha256))))
        for e in result.exercises
        if e.status != AWAITING
    ]
    return student, assignment, scored
