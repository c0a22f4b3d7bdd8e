"""The kernel's environment: built from an allow-list, never copied from the grader's.

A CI job's or a TA's environment holds tokens and passwords; a student's cell could read
them and print them into the report it gets back. The kernel gets only what Python, Jupyter,
torch and the course data need: a fixed PATH, a UTF-8 locale, its home (the work dir), where
the grader package is, thread counts, the data folders it is shown, and the few GPU-selection
variables an operator sets on purpose.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from .options import ExecOptions
from .sandbox import GRADER_PACKAGE

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Taken from the grader's environment when set: they choose hardware, they hold no secret.
PASSED_THROUGH = ("CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "TZ")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
# Windows (a student's own machine, never sandboxed): what Python and its DLLs need to start.
WINDOWS_PASSED = ("COMSPEC", "PATHEXT", "NUMBER_OF_PROCESSORS", "PROCESSOR_ARCHITECTURE")


def python_environment(home: Path) -> dict[str, str]:
    """What any Python process the grader starts gets (a kernel, the Dask courier)."""
    return {
        "PATH": f"{Path(sys.executable).parent}:{SYSTEM_PATH}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
    }


def kernel_environment(
    options: ExecOptions,
    home: Path,
    grader_env: Mapping[str, str] = os.environ,
    system: str = os.name,
) -> dict[str, str]:
    """The whole environment of a kernel process whose home and cwd is ``home``."""
    sep = ";" if system == "nt" else ":"
    env = {
        **python_environment(home),
        # The kernel imports the very grader package that grades it (exporter, datasets);
        # first, stand-ins that make the debugger and jedi unimportable: a grading kernel has
        # no use for them, and ipykernel and IPython start ~50 ms sooner without them.
        "PYTHONPATH": f"{GRADER_PACKAGE / 'inkernel' / 'disabled'}{sep}{GRADER_PACKAGE.parent}",
        "MPLBACKEND": "Agg",
    }
    if system == "nt":
        root = grader_env.get("SYSTEMROOT", r"C:\Windows")
        python = Path(sys.executable).parent
        folders = [python, python / "Scripts", python / "Library" / "bin"]
        env["PATH"] = sep.join([*map(str, folders), rf"{root}\System32", root])
        env.update(SYSTEMROOT=root, WINDIR=root)
        env.update(
            {k: str(home) for k in ("USERPROFILE", "APPDATA", "LOCALAPPDATA", "TEMP", "TMP")}
        )
        env.update({k: grader_env[k] for k in WINDOWS_PASSED if k in grader_env})
    env.update({k: grader_env[k] for k in PASSED_THROUGH if k in grader_env})
    if options.threads:
        env.update({k: str(options.threads) for k in THREAD_VARIABLES})
    env.update({variable: str(folder) for variable, folder in options.data})
    return env
