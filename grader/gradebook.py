"""The gradebook: one SQLite database, the single store of submissions, gradings and scores.

    with Gradebook(path) as gb:
        gb.record(submission, "ps1", graded)

Every submission is kept as handed in (its bytes), keyed by student, assignment and content
hash, so a file is graded once however often a batch sees it. A grading is written in one
transaction with its per-exercise results and the exported answers (plain data and
weights), after it is complete: a crash never leaves a half-graded submission recorded as
graded, and a regrade can judge again without running any notebook. WAL mode and a busy
timeout make two ``grade`` processes on one gradebook safe. Reviews of manual answers and
overrides of automatic scores are events of their own table (``grader.reviews``): what is
read here (attempts, results) carries the latest review of each answer.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import GraderError, SubmissionError
from .execute.records import Executed, ExportRecord, outcome_data, outcome_from
from .frozen import thaw
from .intake import Submission
from .results import AWAITING, Attempt, GradeResult
from .reviews import (
    REVIEWS_SCHEMA,
    Review,
    add_review,
    latest_reviews,
    review_line,
    text_answer,
    with_reviews,
)

# 2: gradings.flags and gradings.copied_from (per-student variants); 3: gradings.draws;
# 4: reviews (grader.reviews) and exercise_results.answer (a manual answer's digest)
SCHEMA_VERSION = "4"
SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS students (id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY,
    student TEXT NOT NULL,
    assignment TEXT NOT NULL,          -- '' when no assignment could be told
    sha256 TEXT NOT NULL,              -- of the content, or of the source for refused files
    source TEXT NOT NULL,
    submitted_at TEXT,                 -- ISO 8601, UTC
    received_at TEXT NOT NULL,
    content BLOB,                      -- the file as handed in (NULL when refused unread)
    UNIQUE (student, assignment, sha256)
);
CREATE TABLE IF NOT EXISTS gradings (
    id INTEGER PRIMARY KEY,
    submission INTEGER NOT NULL REFERENCES submissions (id),
    current INTEGER NOT NULL,          -- 1 for the latest grading of its submission
    status TEXT NOT NULL,              -- 'graded' or 'refused' (could not be graded at all)
    reason TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    course_fingerprint TEXT NOT NULL,  -- the course version it was judged against
    run_fingerprint TEXT NOT NULL,     -- what its execution depended on
    graded_at TEXT NOT NULL,
    result TEXT,                       -- the GradeResult, as JSON
    outcomes TEXT,                     -- the step outcomes, as JSON
    flags TEXT NOT NULL DEFAULT '[]',  -- what the instructor should look at (JSON list)
    copied_from TEXT NOT NULL DEFAULT '', -- whose numbers the answers match (copying?)
    draws TEXT NOT NULL DEFAULT '{}'   -- what the grader drew for the run (JSON, grader.draws)
);
CREATE INDEX IF NOT EXISTS gradings_current ON gradings (submission, current);
CREATE TABLE IF NOT EXISTS exercise_results (
    grading INTEGER NOT NULL REFERENCES gradings (id),
    exercise TEXT NOT NULL,
    status TEXT NOT NULL,
    score REAL NOT NULL,
    points REAL NOT NULL,
    message TEXT NOT NULL,
    answer TEXT NOT NULL DEFAULT '',   -- a manual answer's id (grader.reviews.text_answer)
    PRIMARY KEY (grading, exercise)
);
CREATE TABLE IF NOT EXISTS exports (
    grading INTEGER NOT NULL REFERENCES gradings (id),
    exercise TEXT NOT NULL,
    payload TEXT NOT NULL,
    weights BLOB,
    PRIMARY KEY (grading, exercise)
);
"""
    + REVIEWS_SCHEMA
)


@dataclass(frozen=True)
class Graded:
    """What a finished grading brings to the gradebook."""

    result: GradeResult
    executed: Executed
    course_fingerprint: str
    run_fingerprint: str
    draws: Mapping[str, Any] = field(default_factory=dict)  # what the run was given


class Gradebook:
    """A gradebook file; use as a context manager (``with Gradebook(path) as gb``)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)  # idempotent: every statement is IF NOT EXISTS
            with self._transaction():
                found = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
                if found is None:
                    self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
                elif found[0] in ("1", "2", "3"):
                    self._migrate()
                elif found[0] != SCHEMA_VERSION:
                    raise GraderError(f"{self.path}: a gradebook of another version ({found[0]})")
        except sqlite3.DatabaseError as e:
            raise GraderError(f"{self.path}: not a usable gradebook ({e})") from None

    def _migrate(self) -> None:
        """Version 1 had no flags, 2 no draws, 3 no reviews (the table is made by the schema)
        nor answers' digests: add the columns (in the open transaction)."""
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(gradings)")}
        added = {"flags": "'[]'", "copied_from": "''", "draws": "'{}'"}
        for column, default in added.items():
            if column not in columns:
                self.db.execute(
                    f"ALTER TABLE gradings ADD COLUMN {column} TEXT NOT NULL DEFAULT {default}"
                )
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(exercise_results)")}
        if "answer" not in columns:
            self.db.execute(
                "ALTER TABLE exercise_results ADD COLUMN answer TEXT NOT NULL DEFAULT ''"
            )
        self.db.execute("UPDATE meta SET value=? WHERE key='schema'", (SCHEMA_VERSION,))

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database (everything recorded is already committed)."""
        self.db.close()

    # --- writing ------------------------------------------------------------------------------

    def record(self, submission: Submission, assignment: str, outcome: Graded | str) -> int:
        """Record a grading of a submission, in one transaction: a ``Graded`` result, or the
        reason (text) it could not be graded. Earlier gradings of it stop being current.
        Returns the grading's id."""
        with self._transaction():
            sub = self._submission(submission, assignment)
            self.db.execute("UPDATE gradings SET current=0 WHERE submission=?", (sub,))
            if isinstance(outcome, str):
                cursor = self.db.execute(
                    "INSERT INTO gradings (submission, current, status, reason, score, max_score,"
                    " course_fingerprint, run_fingerprint, graded_at) "
                    "VALUES (?, 1, 'refused', ?, 0, 0, '', '', ?)",
                    (sub, outcome, _now()),
                )
                return int(cursor.lastrowid or 0)
            result = outcome.result
            cursor = self.db.execute(
                "INSERT INTO gradings (submission, current, status, reason, score, max_score,"
                " course_fingerprint, run_fingerprint, graded_at, result, outcomes, flags,"
                " copied_from, draws) VALUES (?, 1, 'graded', '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    sub,
                    result.score,
                    result.max_score,
                    outcome.course_fingerprint,
                    outcome.run_fingerprint,
                    result.graded_at or _now(),
                    json.dumps(_result_data(result)),
                    json.dumps([outcome_data(o) for o in outcome.executed.outcomes]),
                    json.dumps(list(result.flags)),
                    result.copied_from,
                    json.dumps(thaw(outcome.draws)),
                ),
            )
            grading = int(cursor.lastrowid or 0)
            self.db.executemany(
                "INSERT INTO exercise_results (grading, exercise, status, score, points, message,"
                " answer) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        grading,
                        e.id,
                        e.status,
                        e.score,
                        e.points,
                        e.message,
                        _answer_id(e.status, e.answer),
                    )
                    for e in result.exercises
                ],
            )
            self.db.executemany(
                "INSERT INTO exports VALUES (?, ?, ?, ?)",
                [
                    (grading, eid, json.dumps(record.payload), record.weights)
                    for eid, record in outcome.executed.exports.items()
                ],
            )
            return grading

    def judged_against(self, grading: int, course_fingerprint: str) -> None:
        """Say that a grading, judged again to the same result, holds for this version of
        the course (a regrade that changed nothing else adds no grading)."""
        with self._transaction():
            self.db.execute(
                "UPDATE gradings SET course_fingerprint=? WHERE id=?", (course_fingerprint, grading)
            )

    def _submission(self, s: Submission, assignment: str) -> int:
        digest = s.sha256 or "refused:" + s.source
        self.db.execute("INSERT OR IGNORE INTO students VALUES (?)", (s.student,))
        content = _content(s)
        self.db.execute(
            "INSERT OR IGNORE INTO submissions (student, assignment, sha256, source, submitted_at,"
            " received_at, content) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (s.student, assignment, digest, s.source, _iso(s.submitted_at), _now(), content),
        )
        row = self.db.execute(
            "SELECT id FROM submissions WHERE student=? AND assignment=? AND sha256=?",
            (s.student, assignment, digest),
        ).fetchone()
        return int(row[0])

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT (or ROLLBACK): one writer at a time, all or nothing."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- reading ------------------------------------------------------------------------------

    def current(self, student: str, assignment: str | None, sha256: str) -> Attempt | None:
        """The current grading of one submission, if it was graded (``assignment`` None: of
        any assignment, for a file whose assignment could not be told)."""
        if assignment is None:
            found = self.attempts(where="s.student=? AND s.sha256=?", args=(student, sha256))
        else:
            found = self.attempts(
                where="s.student=? AND s.assignment=? AND s.sha256=?",
                args=(student, assignment, sha256),
            )
        return found[0] if found else None

    def attempts(
        self, assignment: str | None = None, *, where: str = "", args: tuple[Any, ...] = ()
    ) -> list[Attempt]:
        """Every submission's current grading (of one assignment), by student and time."""
        clauses = ["g.current=1"]
        if assignment is not None:
            clauses.append("s.assignment=?")
            args = (assignment, *args)
        if where:
            clauses.append(where)
        rows = self.db.execute(
            "SELECT g.id, s.student, s.assignment, s.source, s.sha256, s.submitted_at, g.status,"
            " g.reason, g.score, g.max_score, g.graded_at, g.course_fingerprint,"
            " g.run_fingerprint, g.flags, g.copied_from"
            " FROM gradings g JOIN submissions s ON g.submission = s.id "
            f"WHERE {' AND '.join(clauses)} ORDER BY s.student, s.submitted_at, s.id",
            args,
        ).fetchall()
        scores: dict[int, dict[str, float]] = {}
        awaiting: dict[int, list[str]] = {}
        waiting: dict[int, float] = {}  # the points of those answers
        extra: dict[int, tuple[float, float]] = {}  # what reviews add to score and maximum
        lines: dict[int, dict[str, str]] = {}
        latest = latest_reviews(self.db, {(r[1], r[2]) for r in rows})
        sha = {r[0]: (r[1], r[2], r[4]) for r in rows}
        for grading, exercise, score, status, points, answer in self._rows_in(
            "SELECT grading, exercise, score, status, points, answer FROM exercise_results"
            " WHERE grading IN ({})",
            [r[0] for r in rows],
        ):
            student, assignment, digest = sha[grading]
            review = latest.get((student, assignment, exercise, answer or "file:" + digest))
            if review is not None:
                added, more = extra.get(grading, (0.0, 0.0))
                more += points if status == AWAITING else 0.0
                extra[grading] = (added + review.points - score, more)
                lines.setdefault(grading, {})[exercise] = review_line(review, points)
                score = review.points
            elif status == AWAITING:
                awaiting.setdefault(grading, []).append(exercise)
                waiting[grading] = waiting.get(grading, 0.0) + points
            scores.setdefault(grading, {})[exercise] = score
        return [
            Attempt(
                grading=r[0],
                student=r[1],
                assignment=r[2],
                source=r[3],
                sha256=r[4],
                submitted_at=dt.datetime.fromisoformat(r[5]) if r[5] else None,
                status=r[6],
                reason=r[7],
                score=round(r[8] + extra.get(r[0], (0.0, 0.0))[0], 4),
                max_score=round(r[9] + extra.get(r[0], (0.0, 0.0))[1], 4),
                graded_at=r[10],
                course_fingerprint=r[11],
                run_fingerprint=r[12],
                exercises=scores.get(r[0], {}),
                flags=tuple(json.loads(r[13] or "[]")),
                copied_from=r[14] or "",
                awaiting=tuple(awaiting.get(r[0], ())),
                awaiting_points=round(waiting.get(r[0], 0.0), 4),
                reviews=lines.get(r[0], {}),
            )
            for r in rows
        ]

    def result(self, grading: int, reviewed: bool = True) -> GradeResult | None:
        """The full result of a grading (None for a refused file), with the latest reviews of
        its answers (``reviewed``; else as the judge left it)."""
        row = self.db.execute(
            "SELECT g.result, s.student, s.assignment, s.sha256 FROM gradings g"
            " JOIN submissions s ON g.submission = s.id WHERE g.id=?",
            (grading,),
        ).fetchone()
        if not row or not row[0]:
            return None
        result = GradeResult.from_dict(json.loads(row[0]))
        if not reviewed:
            return result
        return with_reviews(result, row[1], row[3], latest_reviews(self.db, [(row[1], row[2])]))

    def review(
        self,
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
        """Record a review of one exercise of a grading, in one transaction (see
        ``grader.reviews.add_review``: a review based on a stale version is refused)."""
        return add_review(
            self.db,
            grading,
            exercise,
            points=points,
            based_on=based_on,
            reviewer=reviewer,
            items=items,
            comment=comment,
            reason=reason,
        )

    def stored_results(self, gradings: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The stored GradeResults of some gradings as plain data, by grading (refused ones have
        none). The JSON as recorded: rows of older versions may lack newer fields."""
        return {
            grading: json.loads(result)
            for grading, result in self._rows_in(
                "SELECT id, result FROM gradings WHERE result IS NOT NULL AND id IN ({})", gradings
            )
        }

    def answers(self, wanted: Collection[tuple[int, str]]) -> dict[tuple[int, str], Any]:
        """The exported answers (payloads, plain data) of some (grading, exercise) pairs; a pair
        without an export is left out."""
        return {
            (grading, exercise): json.loads(payload)
            for grading, exercise, payload in self._rows_in(
                "SELECT grading, exercise, payload FROM exports WHERE grading IN ({})",
                sorted({grading for grading, _ in wanted}),
            )
            if (grading, exercise) in wanted
        }

    def _rows_in(self, sql: str, ids: Sequence[int]) -> Iterator[Any]:
        """The rows of ``sql`` whose ``IN ({})`` takes ``ids``, a chunk at a time (SQLite caps
        the parameters of a statement)."""
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            yield from self.db.execute(sql.format(",".join("?" * len(chunk))), chunk)

    def stored_run(self, grading: int) -> tuple[bytes, Executed]:
        """What a grading's run produced, to judge it again without running it: the submitted
        file and the Executed record (outcomes and exports)."""
        row = self.db.execute(
            "SELECT s.content, g.outcomes FROM gradings g JOIN submissions s"
            " ON g.submission = s.id WHERE g.id=?",
            (grading,),
        ).fetchone()
        if row is None or row[0] is None or row[1] is None:
            raise GraderError(f"grading {grading} has no stored run")
        exports = {
            exercise: ExportRecord(json.loads(payload), weights)
            for exercise, payload, weights in self.db.execute(
                "SELECT exercise, payload, weights FROM exports WHERE grading=?", (grading,)
            )
        }
        outcomes = tuple(outcome_from(o) for o in json.loads(row[1]))
        return bytes(row[0]), Executed(outcomes, exports)

    def stored_draws(self, grading: int) -> dict[str, Any]:
        """What the grader drew for a grading's run (``grader.draws``): a regrade that judges
        the stored run again judges it against these."""
        row = self.db.execute("SELECT draws FROM gradings WHERE id=?", (grading,)).fetchone()
        data = json.loads(row[0]) if row is not None and row[0] else {}
        return data if isinstance(data, dict) else {}


def _content(s: Submission) -> bytes | None:
    """The bytes of a submission as they were hashed; None when refused unread, or when the
    batch's copy no longer holds them (better no bytes than other bytes)."""
    if s.path is None or s.problem:
        return None
    try:
        return s.read()
    except SubmissionError:
        return None


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _iso(when: dt.datetime | None) -> str | None:
    return when.astimezone(dt.timezone.utc).isoformat(timespec="seconds") if when else None


def _answer_id(status: str, answer: str) -> str:
    """What a review of a manual answer is about: its text's digest ('' for other answers)."""
    return text_answer(answer) if status == AWAITING else ""


def _result_data(result: GradeResult) -> dict[str, Any]:
    data = result.to_dict()
    data.pop("log", None)  # the kernel's own output is for --debug, not for the record
    return data
