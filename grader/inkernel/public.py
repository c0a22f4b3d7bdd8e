"""Public checks: what a student may learn about an answer without being given it.

Runs in the grader (grading with a hand-out) and in the student's own notebook
(``check("corr1d-same")``), on the answer as plain data (``grader.inkernel.exporter``). A check
sees only the student's value and what the hand-out says of the exercise (type, shape,
integer-ness, range, finite values, a custom public check), never the reference value. The
checks are generic and named (``CHECKS``): the hand-out's data says which an exercise runs
(its kind's, from ``grader.kinds``, written by the build). Right or wrong, and known mistakes,
come from the hand-out's digests and seals (``grader.inkernel.sealed``). Stdlib only at import.
"""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any

from .public_kinds import KIND_CHECKS
from .sealed import instant, known_mistake

HANDOUT = "grade-handout.json"
# 2: a kind's public checks named in its data (answer.checks), not known here by kind
HANDOUT_FORMAT = 2


# One public check: (what was checked, passed, what is wrong, whether its failure is certain
# to cost every point at grading).
Result = tuple[str, bool, str, bool]


def run_checks(exercise: dict[str, Any], value: Any) -> list[tuple[str, bool, str]]:
    """The public checks of one exercise on a plain value: (what, passed, problem) each, where
    ``what`` says what was checked ("9 values", "all finite") and ``problem`` what is wrong."""
    return [(what, ok, problem) for what, ok, problem, _ in value_checks(exercise, value)]


def value_checks(exercise: dict[str, Any], value: Any) -> list[Result]:
    """The hand-out's generic checks of the exercise (``answer.checks``, the kind's own from
    its table entry) on a plain value, each with whether its failure costs every point (all
    of them, when the answer is one value judged by one check: ``answer.single``)."""
    answer = exercise["answer"]
    public = exercise.get("public") or {}
    single = bool(answer.get("single"))
    out: list[Result] = []
    if answer.get("recipe") == "model":
        return out  # models are checked on the live object (see check()), and at grading
    for name in answer.get("checks") or ():
        check = CHECKS.get(name)
        if check is None:
            out.append((name, False, f"the public check {name!r} is unknown here", False))
            continue
        for what, ok, problem, certain in check(value, public):
            out.append((what, ok, "" if ok else problem, certain or single))
    return out


def _a_number(value: Any, public: dict[str, Any]) -> list[Result]:
    numbers = _numbers(value)
    single = numbers is not None and len(numbers) == 1 and not isinstance(value, (list, dict))
    return [("a number", single, f"a number was expected, you gave {_what(value)}", True)]


def _a_shape(value: Any, public: dict[str, Any]) -> list[Result]:
    shape = public.get("shape")
    whole = isinstance(value, list) and all(_whole(v) for v in value)
    size = f"{shape[0]} " if shape is not None else ""
    what = f"a tuple of {size}whole numbers"
    if whole and shape:
        return [(what, len(value) == shape[0], f"{what} was expected, you gave {len(value)}", True)]
    return [(what, whole, f"{what} was expected, you gave {_what(value)}", True)]


def _an_array(value: Any, public: dict[str, Any]) -> list[Result]:
    shape = public.get("shape")
    got = _shape(value)
    ok = got is not None and _numbers(value) is not None
    if shape is None or not ok:
        problem = f"a list (or nested lists) of numbers was expected, you gave {_what(value)}"
        return [("numbers", ok, problem, True)]
    what = _describe_shape(shape)
    return [
        (what, got == list(shape), f"{what} was expected, you gave {_describe_shape(got)}", True)
    ]


def _a_dict(value: Any, public: dict[str, Any]) -> list[Result]:
    keys = public.get("keys")
    if not isinstance(value, dict):
        return [("a dict", False, f"a dict was expected, you gave {_what(value)}", True)]
    if keys is None:
        return [("a dict", True, "", False)]
    # Extra keys cost nothing at grading, so they are not a problem here either.
    missing = [k for k in keys if k not in value]
    return [
        (
            f"a dict of {len(keys)} keys",
            not missing,
            f"missing {', '.join(map(repr, missing))}",
            False,
        )
    ]


def _a_string(value: Any, public: dict[str, Any]) -> list[Result]:
    return [
        ("a string", type(value) is str, f"a string was expected, you gave {_what(value)}", True)
    ]


def _numbers_checks(value: Any, public: dict[str, Any]) -> list[Result]:
    """Finite values (unless ``finite: false``), whole numbers and a range where declared."""
    numbers = _numbers(value)
    out: list[Result] = []
    if not numbers:
        return out
    if public.get("finite", True):
        ok = all(math.isfinite(n) for n in numbers)
        out.append(("all finite", ok, "every value must be finite (no nan or inf)", False))
    if public.get("integer"):
        ok = all(_whole(n) for n in numbers)
        out.append(("whole numbers", ok, "every value must be a whole number", False))
    if public.get("range") is not None:
        low, high = public["range"]
        ok = all(low <= n <= high for n in numbers if math.isfinite(n))
        out.append(
            (
                f"between {low} and {high}",
                ok,
                f"every value must be between {low} and {high}",
                False,
            )
        )
    return out


# The generic public checks of a plain value, by the name a kind's table entry gives them.
CHECKS = {
    "a_number": _a_number,
    "an_array": _an_array,
    "a_shape": _a_shape,
    "a_dict": _a_dict,
    "a_string": _a_string,
    "numbers": _numbers_checks,
    **KIND_CHECKS,
}
# The public checks of a model (on the live one in ``check()``, on its export at grading).
MODEL_CHECKS = ("a_module", "forward", "losses")


def summary(results: list[tuple[str, bool, str]], known: tuple[float, str] | None) -> str:
    """One line, as the report and ``check()`` say it: "9 values, all finite: OK; right answer:
    checked at grading", or what is wrong."""
    problems = [problem for _, ok, problem in results if not ok]
    if problems:
        return "; ".join(problems)
    right = known[1] if known is not None else "right answer: checked at grading"
    passed = ", ".join(what for what, _, _ in results)
    return f"{passed}: OK; {right}" if passed else right


def custom_checks(handout: dict[str, Any]) -> dict[str, Any]:
    """The course's public check functions (its ``checks/<topic>.py``, carried by the
    hand-out), by name."""
    found: dict[str, Any] = {}
    for topic, source in (handout.get("checks") or {}).items():
        ns: dict[str, Any] = {"__name__": f"grade_public_checks_{topic}"}
        exec(compile(source, f"checks/{topic}.py", "exec"), ns)
        found.update({k: v for k, v in ns.items() if callable(v) and not k.startswith("_")})
    return found


def run_custom(fn: Any, value: Any) -> tuple[str, bool, str]:
    """A public check function: it returns None (or '') when the value is fine, else what
    is wrong with it. Its name says what it checks (``batch_of_three``: "batch of three")."""
    what = getattr(fn, "__name__", "public check").replace("_", " ")
    try:
        problem = fn(value)
    except Exception as e:
        return what, False, f"the check {what!r} failed: {type(e).__name__}: {e}"
    return what, not problem, str(problem or "")


def check(exercise_id: str, namespace: dict[str, Any] | None = None) -> bool | None:
    """Check one answer in the notebook, as the report would: print the public checks (and
    right or wrong, where the hand-out says so). Returns True/False when right or wrong is
    known now, else None. Never raises: official grading ignores it."""
    try:
        handout = _find_handout()
        if handout is None:
            print(f"{exercise_id}: no {HANDOUT} here: checks run in the hand-out folder")
            return None
        exercise = next((e for e in handout["exercises"] if e["id"] == exercise_id), None)
        if exercise is None:
            known = ", ".join(e["id"] for e in handout["exercises"])
            print(f"{exercise_id!r} is not an exercise of {handout['assignment']['id']} ({known})")
            return None
        ns = namespace if namespace is not None else _caller_namespace()
        line, verdict = describe(exercise, ns, custom_checks(handout))
        print(line)
        return verdict
    except Exception as e:  # a check must never break the student's notebook
        print(f"{exercise_id}: the check could not run ({type(e).__name__}: {e})")
        return None


def describe(
    exercise: dict[str, Any], ns: dict[str, Any], custom: dict[str, Any] | None = None
) -> tuple[str, bool | None]:
    """The line ``check()`` prints for one exercise and the namespace's answer, and True or
    False when right or wrong is known now (else None)."""
    from .exporter import ExportError, to_plain

    name = exercise["answer"]["name"]
    head = f"{exercise['id']}: "
    if exercise["answer"].get("recipe") == "manual":  # its cell's text, read by a person
        return f"{head}reviewed by a person after grading: nothing to check here", None
    if name not in ns:
        return f"{head}`{name}` is not defined yet (run its cell first)", None
    live = ns[name]
    if live is Ellipsis:
        return f"{head}`{name}` is still `...`: the exercise is not answered yet", None
    if exercise["answer"].get("recipe") == "calls":
        return _describe_calls(exercise, live)
    mistake = None
    if exercise["answer"].get("recipe") == "model":
        results, known = _model_checks(exercise, live, ns), None
    else:
        try:
            value = to_plain(live)
        except ExportError as e:
            return f"{head}{e}", False
        results = public_checks(exercise, value, custom or {})
        known = instant(exercise, value) if all(ok for _, ok, _ in results) else None
        if known is None or known[0] < 1.0:
            mistake = known_mistake(exercise, value)
    verdict = None if known is None else known[0] == 1.0
    if not all(ok for _, ok, _ in results) and exercise["answer"].get("single"):
        verdict = False
    line = head + summary(results, known)
    if mistake is not None:  # a known wrong answer: never the right one (grade build checks)
        return f"{line}; a known mistake: {mistake[0]}\n  hint: {mistake[1]}", False
    return line, verdict


def _describe_calls(exercise: dict[str, Any], fn: Any) -> tuple[str, bool | None]:
    """A function answer called on the hand-out's public cases, each said right or wrong by
    official grading's comparison (``grader.inkernel.case_match``); False when one is wrong,
    True when all are right and nothing is left to official grading, else None."""
    from .calls import call_all
    from .case_match import case_right
    from .inputs import call_text

    answer = exercise["answer"]
    head = f"{exercise['id']}: "
    cases = answer.get("cases") or []
    known = exercise.get("public_cases") or {}
    expected, hidden = known.get("expected"), int(known.get("hidden", 0))
    later = later_cases(hidden, int(known.get("drawn", 0)))
    hidden += int(known.get("drawn", 0))
    if not cases or not isinstance(expected, list) or len(expected) != len(cases):
        return head + (later if hidden else "checked at grading"), None
    if not callable(fn):
        return f"{head}`{answer['name']}` must be a function, you gave {_what(fn)}", False
    got = call_all(fn, cases, float(answer.get("call_timeout", 1.0)))
    lines, wrong = [], 0
    for case, exp, out in zip(cases, expected, got, strict=True):
        if case.get("raises"):
            exp = {"raised": case["raises"]}
        call = call_text(answer["name"], case)
        if case_right(exp, out, float(answer.get("rtol", 0)), float(answer.get("atol", 0))):
            lines.append(f"  {call}: right")
        else:
            wrong += 1
            lines.append(f"  {call}: wrong (expected {_outcome(exp)}, got {_outcome(out)})")
    n = len(cases)
    shown = f"{n} public case{'s' if n != 1 else ''}: " + (
        f"{n - wrong} of {n} right" if wrong else "OK"
    )
    rules = answer.get("calls") or answer.get("forbids")  # the cell's text: read at grading
    rest = [later] if hidden else []
    rest += ["the rules on what the cell calls: checked at grading"] if rules else []
    verdict = False if wrong else None if rest else True
    return "; ".join([head + shown, *rest]) + "\n" + "\n".join(lines), verdict


def later_cases(hidden: int, drawn: int) -> str:
    """What official grading checks of a function beyond its public cases."""
    parts = [f"{hidden} hidden case{'s' if hidden != 1 else ''}"] if hidden else []
    parts += ["cases drawn afresh for each grading"] if drawn else []
    return " and ".join(parts) + ": checked at grading"


def _outcome(result: Any) -> str:
    if not isinstance(result, dict):
        return "nothing"
    if "raised" in result:
        return str(result["raised"])
    if "value" in result:
        return _cut(repr(result["value"]))
    if "timeout" in result:
        return f"no result within {result['timeout']} s"
    return _cut(str(result.get("error", "nothing")))


def _cut(text: str, shown: int = 120) -> str:
    return text if len(text) <= shown else text[:shown] + "…"


def public_checks(
    exercise: dict[str, Any], value: Any, custom: dict[str, Any]
) -> list[tuple[str, bool, str]]:
    """The kind's checks and the exercise's custom public check, on a plain value."""
    return [(what, ok, problem) for what, ok, problem, _ in public_results(exercise, value, custom)]


def public_results(exercise: dict[str, Any], value: Any, custom: dict[str, Any]) -> list[Result]:
    """``public_checks``, each with whether its failure costs every point at grading."""
    results = value_checks(exercise, value)
    name = (exercise.get("public") or {}).get("check")
    single = bool(exercise["answer"].get("single"))
    if name:
        if name in custom:
            results.append((*run_custom(custom[name], value), single))
        else:
            problem = f"the public check {name!r} is not in the hand-out"
            results.append((name, False, problem, single))
    return results


def _model_checks(
    exercise: dict[str, Any], model: Any, ns: dict[str, Any]
) -> list[tuple[str, bool, str]]:
    torch = sys.modules.get("torch")
    answer = exercise["answer"]
    named = answer.get("checks") or ()
    if torch is None or not isinstance(model, torch.nn.Module):
        if torch is not None and isinstance(model, type) and issubclass(model, torch.nn.Module):
            return [("an nn.Module", True, "")]
        return [("an nn.Module", False, f"an nn.Module was expected, you gave {_what(model)}")]
    out = [("an nn.Module", True, "")]
    probe = answer.get("probe") or []
    if probe and "forward" in named:
        params = list(model.parameters())
        device = params[0].device if params else "cpu"
        was = model.training
        what = f"a forward pass on zeros{tuple(probe)}"
        try:
            model.eval()
            with torch.no_grad():
                y = model(torch.zeros(probe, device=device))
            ok = isinstance(y, torch.Tensor)
            out.append((what, ok, "" if ok else f"forward returned {_what(y)}, not a tensor"))
        except Exception as e:
            out.append(
                (what, False, f"forward on zeros{tuple(probe)} raised {type(e).__name__}: {e}")
            )
        finally:
            model.train(was)
    extras = answer.get("extras") or {}
    if "losses" in extras and "losses" in named:
        losses = ns.get(extras["losses"])
        ok = (
            isinstance(losses, (list, tuple))
            and len(losses) >= 2
            and all(isinstance(v, (int, float)) and math.isfinite(v) for v in losses)
        )
        out.append(
            (
                "losses",
                ok,
                "" if ok else f"`{extras['losses']}` must be a list of at least two finite floats",
            )
        )
    return out


def _find_handout() -> dict[str, Any] | None:
    folder = os.getcwd()
    for _ in range(6):
        path = os.path.join(folder, HANDOUT)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                data: dict[str, Any] = json.load(f)
            return data
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return None


def _caller_namespace() -> dict[str, Any]:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        return shell.user_ns  # type: ignore[no-any-return]
    return sys._getframe(2).f_globals


def _numbers(value: Any) -> list[float] | None:
    out: list[float] = []

    def walk(x: Any, depth: int = 0) -> bool:
        if depth > 32:
            return False
        if isinstance(x, bool):
            return False
        if isinstance(x, (int, float)):
            out.append(float(x) if not isinstance(x, int) or abs(x) < 2**63 else math.inf)
            return True
        if x in ("nan", "inf", "-inf"):
            out.append(float(x))
            return True
        if isinstance(x, list):
            return all(walk(v, depth + 1) for v in x)
        if isinstance(x, dict):
            return all(walk(v, depth + 1) for v in x.values())
        return False

    return out if walk(value) else None


def _shape(value: Any) -> list[int] | None:
    """The shape of nested lists (None when ragged)."""
    if not isinstance(value, list):
        return [] if not isinstance(value, dict) else None
    shapes = [_shape(v) for v in value]
    if any(s is None for s in shapes) or any(s != shapes[0] for s in shapes):
        return None
    inner = shapes[0] if shapes and shapes[0] is not None else []
    return [len(value), *inner]


def _whole(x: Any) -> bool:
    return (
        not isinstance(x, bool) and isinstance(x, (int, float)) and math.isfinite(x) and x == int(x)
    )


def _describe_shape(shape: Any) -> str:
    if shape is None:
        return "lists of uneven lengths"
    if len(shape) == 1:
        return f"a list of {shape[0]} numbers"
    if len(shape) == 0:
        return "a single number"
    return "an array of shape (" + ", ".join(map(str, shape)) + ")"


def _what(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return f"a dict of {len(value)} keys"
    return f"a {type(value).__name__}"
