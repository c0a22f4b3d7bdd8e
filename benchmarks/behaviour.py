"""The cost of a model's behaviour check, timed as a user gets it.

The course's cnn-model exercise (its setup imports and the solution's CIFAR10Model cell) runs
as a notebook with nbclient in a real kernel, each in a fresh process, round by round (the
order of the sides rotates every round), three ways:

    bare       the notebook alone: a bare nbclient run (the floor of any Jupyter grader)
    export     + the exercise's export step (``grader.execute.exports.export_source``)
               without a seed: weights, layers, summary, probe output (the model export
               without the behaviour check)
    behaviour  + the same export step with a grading's seed: the behaviour check's kernel
               side too (a fresh copy of the model, eval and train forwards, the fx trace)

The export step times itself inside the kernel (``time.perf_counter`` around the call);
the behaviour check's kernel cost is the difference of the two export steps. Then, also in
a fresh process each round, the grader's side: ``same_function`` on the exported behaviour
(the right model: it passes) and on a padded model's (it fails, so the reference is traced
and the stages compared), the first call (cold) and the median of five more.

Prints the medians, the whole-process ratios behaviour / bare and behaviour / export, and
the load average before and after.

    python benchmarks/behaviour.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import timed, with_pythonpath

ROOT = Path(__file__).resolve().parent.parent
EXERCISE = "cnn-model"
SEED = 12345

SETUP = "import torch\nfrom torch import nn\nimport torch.nn.functional as F\n"

# A fresh process: the notebook (setup, answer, and the export step if given) run by nbclient.
NOTEBOOK = """\
import json, sys
import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook
cells = json.loads(open(sys.argv[1]).read())
nb = new_notebook(cells=[new_code_cell(c) for c in cells])
NotebookClient(nb, timeout=600, kernel_name="python3").execute()
"""

# The export step, timing itself in the kernel.
TIMED_STEP = """\
import time as _bench_time
_bench_start = _bench_time.perf_counter()
{step}
open({out!r}, "w").write(str(_bench_time.perf_counter() - _bench_start))
"""

# A fresh grader process: same_function on the right model's export and a padded one's.
JUDGE = """\
import json, statistics, sys, tempfile, time
from pathlib import Path
import torch
from torch import nn
from grader import load_course
from grader.inkernel.exporter import export
from grader.inkernel.layers import describe, probe_input
from grader.judge.behaviour import same_function
from grader.judge.fitting import load_weights, read_layers

course = load_course(Path(sys.argv[1]))
exported, seed = Path(sys.argv[2]), int(sys.argv[3])
ex = course.exercises[{exercise!r}]
probe = tuple(ex.answer["probe"])

def reference():
    from grader.judge.context import JudgeContext
    from grader.key import AnswerKey
    context = JudgeContext(course, AnswerKey("ps3", course.fingerprint, {{}}, seed=7))
    return context.reference_model(ex)

def padded_export():
    model = reference()
    model.feature_extractor[0] = nn.Conv2d(3, 32, 3, padding=1)
    out = Path(tempfile.mkdtemp())
    spec = {{**ex.answer.export_spec(), "seed": seed}}
    export(str(out), ex.id, spec, {{ex.answer.name: model}})
    return out

def check(folder):
    payload = json.loads((folder / f"{{ex.id}}.json").read_text())
    weights = load_weights((folder / f"{{ex.id}}.pt").read_bytes())
    model = reference()
    ref_layers, _ = describe(model, probe_input(probe))
    layers = read_layers(payload.get("layers"))
    args = (model, ref_layers, weights, layers, payload["behaviour"], probe, seed)
    times, message = [], None
    for _ in range(6):
        start = time.perf_counter()
        message = same_function(*args)
        times.append(time.perf_counter() - start)
    return times[0], statistics.median(times[1:]), message

right = check(exported)
wrong = check(padded_export())
assert right[2] == "" and wrong[2], (right, wrong)
print(json.dumps({{"right": right[:2], "wrong": wrong[:2], "message": wrong[2]}}))
"""


def answer_cell() -> str:
    """The solution's cell of the exercise (solutions/cnn.py, between its ``# %%`` marks)."""
    text = (ROOT / "solutions" / "cnn.py").read_text(encoding="utf-8")
    start = text.index(f"# %% {EXERCISE}\n")
    end = text.find("\n# %% ", start + 1)
    return text[start : end if end > 0 else None]


def export_step(work: Path, seed: int | None) -> str:
    """The export step grading injects after the answer cell, as the assembly writes it."""
    sys.path.insert(0, str(ROOT))
    from grader import load_course
    from grader.execute.exports import export_source

    course = load_course(ROOT / "course.yaml")
    spec = course.exercises[EXERCISE].answer.export_spec()
    if seed is not None:
        spec = {**spec, "seed": seed}
    return export_source(work, EXERCISE, spec, "bench")


def spread(ratios: list[float]) -> str:
    """Round-by-round ratios: their median and range."""
    return f"{statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f})"


def load() -> str:
    import os

    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    env = with_pythonpath(ROOT)
    before = load()
    with tempfile.TemporaryDirectory(prefix="grade-bench-behaviour-") as tmp:
        work = Path(tmp)
        (work / "run.py").write_text(NOTEBOOK)
        (work / "judge.py").write_text(JUDGE.format(exercise=EXERCISE))
        cells = [SETUP, answer_cell()]
        sides: dict[str, tuple[list[str], Path | None]] = {}
        for name, seed in (("bare", None), ("export", None), ("behaviour", SEED)):
            folder = work / name
            folder.mkdir()
            steps = cells
            if name != "bare":
                step = TIMED_STEP.format(step=export_step(folder, seed), out=str(folder / "t"))
                steps = [*cells, step]
            (folder / "cells.json").write_text(json.dumps(steps))
            argv = [sys.executable, str(work / "run.py"), str(folder / "cells.json")]
            sides[name] = (argv, folder / "t" if name != "bare" else None)
        wall: dict[str, list[float]] = {name: [] for name in sides}
        step: dict[str, list[float]] = {name: [] for name in sides if sides[name][1]}
        judged: list[dict[str, list[float]]] = []
        names = list(sides)
        for round_ in range(args.repeat):
            for name in names[round_ % 3 :] + names[: round_ % 3]:
                argv, timing = sides[name]
                wall[name].append(timed(argv, work, env))
                if timing is not None:
                    step[name].append(float(timing.read_text()))
            judge = [
                sys.executable,
                str(work / "judge.py"),
                str(ROOT / "course.yaml"),
                str(work / "behaviour"),
                str(SEED),
            ]
            done = subprocess.run(judge, cwd=work, env=env, capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(f"the grader's side failed:\n{done.stderr[-3000:]}")
            judged.append(json.loads(done.stdout.strip().splitlines()[-1]))
    after = load()
    med = {name: statistics.median(v) for name, v in wall.items()}
    kernel = {name: statistics.median(v) for name, v in step.items()}
    print(f"{args.repeat} rounds; {before} before, {after} after")
    print("whole processes (nbclient, a real kernel), medians:")
    for name in sides:
        print(f"  {name:<10} {med[name]:6.2f} s")
    print(
        f"  behaviour / bare {med['behaviour'] / med['bare']:.3f}, behaviour / export "
        f"{med['behaviour'] / med['export']:.3f}, behaviour - export "
        f"{med['behaviour'] - med['export']:+.3f} s"
    )
    for other in ("bare", "export"):  # the two sides of a round ran seconds apart
        ratios = [b / o for b, o in zip(wall["behaviour"], wall[other], strict=True)]
        print(f"  behaviour / {other} round by round: {spread(ratios)}")
    print("the export step inside the kernel, medians:")
    print(f"  without a seed {kernel['export']:.3f} s, with the seed {kernel['behaviour']:.3f} s")
    print(f"  the behaviour check in the kernel: {kernel['behaviour'] - kernel['export']:.3f} s")
    print("the grader's same_function, medians over the rounds (first call, then warm):")
    for case in ("right", "wrong"):
        cold = statistics.median(j[case][0] for j in judged)
        warm = statistics.median(j[case][1] for j in judged)
        print(f"  {case:<6} {cold:.3f} s, then {warm:.3f} s")
    print(f"  the wrong model's message: {judged[-1]['message']}")


if __name__ == "__main__":
    main()
