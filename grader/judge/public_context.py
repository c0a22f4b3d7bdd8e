"""The public context: the judge's expectations from a hand-out's data alone.

Grading in a hand-out folder is the one judge (``grader.judge.scoring``) with these
expectations instead of the answer key: the kind's public checks (named by its table entry,
written into the hand-out by the build), the exercise's custom public check, the salted
digests of instant feedback and the sealed known mistakes (``grader.inkernel.sealed``). What
the hand-out cannot decide is ``pending``: decided at official grading.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..execute.records import ExportRecord
from ..frozen import freeze
from ..inkernel.public import custom_checks, later_cases, public_results, summary
from ..inkernel.sealed import digest, digests_wanted, instant, known_mistake
from ..results import CheckResult, Status
from ..spec import Exercise
from .function import compare_calls
from .scoring import Verdict


class PublicExpectations:
    """What a hand-out (its ``grade-handout.json`` data) expects of each exercise."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.specs = {e["id"]: e for e in data["exercises"]}
        self.custom = custom_checks(dict(data))

    def warm(self, exports: Mapping[str, ExportRecord]) -> None:
        """Compute the slow digests these exports will need side by side (PBKDF2 releases
        the GIL); ``digest`` remembers them."""
        wanted = [
            d
            for ex_id, export in exports.items()
            if ex_id in self.specs and export.ok
            for d in digests_wanted(self.specs[ex_id], export.payload.get("value"))
        ]
        if wanted:
            with ThreadPoolExecutor(thread_name_prefix="grade-digest") as pool:
                list(pool.map(_warm, wanted))

    def verdict(self, exercise: Exercise, export: ExportRecord) -> Verdict:
        """The public checks of one export; right or wrong where a digest or a seal says."""
        spec = self.specs[exercise.id]
        answer = spec["answer"]
        if answer.get("recipe") == "calls":
            return _calls_verdict(exercise, spec, export)
        model = answer.get("recipe") == "model"
        value = export.payload.get("value")
        if model:
            named = _model_checks(export.payload, answer.get("checks") or ())
            results = [(what, ok, problem, False) for what, ok, problem in named]
        else:
            results = public_results(spec, value, self.custom)
        plain = [(what, ok, problem) for what, ok, problem, _ in results]
        checks = tuple(CheckResult(what, ok, message=problem) for what, ok, problem in plain)
        # a known wrong answer (its seal opens): never the right one (grade build checks)
        mistake = known_mistake(spec, value) if not model else None
        status: Status
        if any(not ok for _, ok, _, _ in results):
            certain = any(not ok and sure for _, ok, _, sure in results)
            status = "failed" if certain else "pending"
            return Verdict(checks, mistake, status, 0.0, summary(plain, None))
        known = instant(spec, value) if not model else None
        if known is None and mistake is not None and answer.get("single"):
            known = (0.0, "right answer: no")  # its one check fails at grading: no point
        if known is None:
            return Verdict(checks, mistake, "pending", 0.0, summary(plain, None))
        fraction = known[0]
        checks += (CheckResult("right answer", fraction == 1.0, message=known[1]),)
        status = "passed" if fraction == 1.0 else "partial" if fraction > 0 else "failed"
        return Verdict(checks, mistake, status, fraction, summary(plain, known))


def _calls_verdict(exercise: Exercise, spec: Mapping[str, Any], export: ExportRecord) -> Verdict:
    """A function answer on its public cases, by official grading's own comparison
    (``grader.judge.function``): right or wrong per public case; decided here when there is
    no hidden case, else ``pending`` (the hidden cases are decided at official grading)."""
    calls = spec.get("public_cases") or {}
    expected, hidden = calls.get("expected"), int(calls.get("hidden", 0))
    later = later_cases(hidden, int(calls.get("drawn", 0)))
    hidden += int(calls.get("drawn", 0))
    if expected is None or not exercise.answer["cases"]:
        return Verdict((), None, "pending", 0.0, later if hidden else "checked at grading")
    # frozen as the key's results are: the comparison is the key's, type for type
    got = export.payload.get("calls")
    checks = tuple(compare_calls(exercise.answer, freeze(expected), got))
    failed = [c for c in checks if not c.passed]
    shown = f"{len(checks)} public case{'s' if len(checks) != 1 else ''}: "
    right = f"{len(checks) - len(failed)} of {len(checks)} right" if failed else "OK"
    first = f"; {failed[0].message}" if failed else ""
    if hidden:
        return Verdict(checks, None, "pending", 0.0, f"{shown}{right}{first}; {later}")
    total = sum(c.weight for c in checks)
    fraction = sum(c.weight for c in checks if c.passed) / total if total else 0.0
    status: Status = "passed" if fraction == 1.0 else "partial" if fraction > 0 else "failed"
    return Verdict(checks, None, status, fraction, f"{shown}{right}{first}")


def _warm(wanted: tuple[str, Any, int]) -> None:
    """Compute one digest ahead (remembered by ``digest``); a value that cannot be hashed is
    reported when its exercise is judged."""
    try:
        digest(*wanted)
    except Exception:
        pass


def _model_checks(payload: Mapping[str, Any], named: Sequence[str]) -> list[tuple[str, bool, str]]:
    """What a hand-out can say of an exported model: it is one, it runs, its losses are numbers."""
    results = [("an nn.Module", True, "")]
    probe = payload.get("probe")
    if isinstance(probe, dict) and "forward" in named:
        error = probe.get("error")
        results.append(("a forward pass", not error, str(error or "")))
    extras = payload.get("extras")
    if isinstance(extras, dict) and "losses" in extras and "losses" in named:
        losses = extras["losses"]
        ok = (
            isinstance(losses, list)
            and len(losses) >= 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in losses)
        )
        results.append(("losses", ok, "the losses must be a list of at least two finite floats"))
    return [(what, ok, "" if ok else problem) for what, ok, problem in results]
