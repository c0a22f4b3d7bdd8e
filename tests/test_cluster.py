"""The Dask path's trust: which schedulers may be used, the cluster's certificates, and real
``dask scheduler`` and ``dask worker`` processes on 127.0.0.1: a rogue worker can neither
run code in the coordinator nor change a score, a TLS cluster grades as the local backend
does, a worker without the cluster's certificate cannot join, and a lost courier ends the
batch cleanly."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import _write_course
from shipped import with_answers

from grader import load_course
from grader.batch import BatchOptions, grade_batch
from grader.build import build
from grader.cli import main
from grader.errors import GraderError
from grader.gradebook import Gradebook
from grader.intake import collect
from grader.options import GradeOptions

TESTS = Path(__file__).resolve().parent
OPTIONS = GradeOptions(limits={"cell_timeout": 10})

# --- which schedulers may be used (no kernel, no network) ------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "tcp://10.1.2.3:8786",
        "10.1.2.3:8786",
        "tcp://grading.example.org:8786",
        "tcp://[2001:db8::1]:8786",
        "tcp://0.0.0.0:8786",
    ],
)
def test_plain_tcp_to_another_machine_is_refused_without_insecure(address):
    with pytest.raises(
        GraderError,
        match="anyone who can reach the scheduler can join as a "
        "worker, see every submission and make up",
    ):
        BatchOptions(scheduler=address)
    assert BatchOptions(scheduler=address, insecure=True).cluster().address.startswith("tcp://")


@pytest.mark.parametrize(
    "address",
    ["tcp://127.0.0.1:8786", "tcp://localhost:8786", "tcp://[::1]:8786", "127.0.0.2:8786"],
)
def test_plain_tcp_on_the_loopback_is_allowed(address):
    assert BatchOptions(scheduler=address).cluster().ca is None


def test_tls_needs_the_cluster_certificates(tmp_path):
    with pytest.raises(GraderError, match="needs --certs DIR"):
        BatchOptions(scheduler="tls://10.1.2.3:8786")
    with pytest.raises(GraderError, match=r"no ca\.pem"):
        BatchOptions(scheduler="tls://10.1.2.3:8786", certs=tmp_path)
    with pytest.raises(GraderError, match="--certs is for a tls:// scheduler"):
        BatchOptions(scheduler="tcp://127.0.0.1:8786", certs=tmp_path)
    with pytest.raises(GraderError, match="use a tls://"):
        BatchOptions(scheduler="ws://10.1.2.3:8786", insecure=True)
    assert CliRunner().invoke(main, ["cluster-certs", str(tmp_path / "certs")]).exit_code == 0
    found = BatchOptions(scheduler="tls://10.1.2.3:8786", certs=tmp_path / "certs").cluster()
    assert [p.name for p in found.tls_files] == ["ca.pem", "client.pem", "client-key.pem"]
    assert all(p.is_absolute() for p in found.tls_files)


def test_the_command_refuses_tcp_to_another_machine_in_one_line(tmp_path):
    course = _write_course(tmp_path / "course")
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "alice.ipynb").write_text("{}")
    result = CliRunner().invoke(
        main,
        [
            "batch",
            str(tmp_path / "class"),
            "--course",
            str(course),
            "--db",
            str(tmp_path / "gb.db"),
            "--out",
            str(tmp_path / "out"),
            "--scheduler",
            "tcp://10.1.2.3:8786",
        ],
    )
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: --scheduler tcp://10.1.2.3:8786: on plain tcp:// "
        "anyone who can reach the scheduler can join as a worker"
    )
    assert result.output.count("\n") == 1 and "--insecure" in result.output
    assert not (tmp_path / "gb.db").exists() and not (tmp_path / "out").exists()


def test_cluster_certs_makes_a_ca_and_a_private_key_for_each_role(tmp_path):
    from cryptography import x509

    folder = tmp_path / "certs"
    result = CliRunner().invoke(main, ["cluster-certs", str(folder)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [
            "ca.pem",
            "scheduler.pem",
            "scheduler-key.pem",
            "worker.pem",
            "worker-key.pem",
            "client.pem",
            "client-key.pem",
        ]
    )
    ca = x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes())
    for role in ("scheduler", "worker", "client"):
        assert (folder / f"{role}-key.pem").stat().st_mode & 0o777 == 0o600
        cert = x509.load_pem_x509_certificate((folder / f"{role}.pem").read_bytes())
        cert.verify_directly_issued_by(ca)
        assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        context = ssl.create_default_context(cafile=folder / "ca.pem")
        context.load_cert_chain(folder / f"{role}.pem", folder / f"{role}-key.pem")
    again = CliRunner().invoke(main, ["cluster-certs", str(folder)])
    assert again.exit_code == 1 and "already holds ca.pem" in again.output


# --- real schedulers and workers on the loopback ---------------------------------------------


def dask_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "dask", *args]


@contextmanager
def process(command: list[str], log: Path, env: dict[str, str] | None = None):
    """A process of its own session, stopped (its whole group) when the block ends."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(20)


def tls_args(certs: Path, role: str) -> list[str]:
    return [
        "--tls-ca-file",
        str(certs / "ca.pem"),
        "--tls-cert",
        str(certs / f"{role}.pem"),
        "--tls-key",
        str(certs / f"{role}-key.pem"),
    ]


def start_scheduler(stack: ExitStack, folder: Path, *extra: str) -> str:
    """A scheduler on 127.0.0.1 (any free port); its address."""
    info = folder / "scheduler.json"
    proc = stack.enter_context(
        process(
            dask_command(
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(info),
                *extra,
            ),
            folder / "scheduler.log",
        )
    )
    deadline = time.monotonic() + 60
    while not info.exists() or not info.read_text().strip():
        assert proc.poll() is None and time.monotonic() < deadline, (
            folder / "scheduler.log"
        ).read_text()
        time.sleep(0.1)
    return json.loads(info.read_text())["address"]


def start_worker(
    stack: ExitStack,
    folder: Path,
    name: str,
    address: str,
    *extra: str,
    env: dict[str, str] | None = None,
) -> subprocess.Popen:
    (folder / name).mkdir()
    return stack.enter_context(
        process(
            dask_command(
                "worker",
                address,
                "--nthreads",
                "1",
                "--no-nanny",
                "--no-dashboard",
                "--death-timeout",
                "10",
                "--local-directory",
                str(folder / name),
                "--name",
                name,
                *extra,
            ),
            folder / f"{name}.log",
            env,
        )
    )


def wait_for_workers(address: str, names: set[str], certs: Path | None = None) -> None:
    from distributed import Client
    from distributed.security import Security

    security = (
        None
        if certs is None
        else Security(
            tls_ca_file=str(certs / "ca.pem"),
            tls_client_cert=str(certs / "client.pem"),
            tls_client_key=str(certs / "client-key.pem"),
            require_encryption=True,
        )
    )
    with Client(address, security=security, timeout="30s") as client:
        deadline = time.monotonic() + 60
        while workers_of(client) != names:
            assert time.monotonic() < deadline, workers_of(client)
            time.sleep(0.2)


def workers_of(client) -> set[str]:
    return {w["name"] for w in client.scheduler_info()["workers"].values()}


@pytest.fixture(scope="module")
def small_class(tmp_path_factory):
    """The small course of conftest, built, and a class of three: right, blank, one wrong."""
    pytest.importorskip("distributed")
    root = tmp_path_factory.mktemp("small")
    course = load_course(_write_course(root / "course"))
    build(course, course.root / "release")
    solution = course.root / "release" / "solution" / "a1.ipynb"
    folder = root / "class"
    folder.mkdir()
    (folder / "alice.ipynb").write_bytes(solution.read_bytes())
    (folder / "bob.ipynb").write_bytes(
        (course.root / "release" / "student" / "a1.ipynb").read_bytes()
    )
    with_answers(solution, {"t-num": "x = 41"}, folder / "carol.ipynb")
    return course, collect(folder, root / "copies")


def scores(gradebook):
    return {a.student: (a.status, a.score) for a in gradebook.attempts("a1")}


@pytest.mark.kernel
def test_a_rogue_worker_runs_no_code_in_the_coordinator_and_records_no_score(small_class, tmp_path):
    from grader.backends.dask import courier_sandbox_works

    if not courier_sandbox_works():
        pytest.skip("bubblewrap cannot sandbox the courier here")
    course, found = small_class
    marker = tmp_path / "marker" / "written"
    with ExitStack() as stack:
        address = start_scheduler(stack, tmp_path)
        env = {**os.environ, "ROGUE_MARKER": str(marker)}
        start_worker(
            stack, tmp_path, "rogue", address, "--preload", str(TESTS / "rogue_worker.py"), env=env
        )
        wait_for_workers(address, {"rogue"})
        with Gradebook(tmp_path / "gb.db") as gb:
            summary = grade_batch(
                course, found[:2], gb, OPTIONS, BatchOptions(assignment="a1", scheduler=address)
            )
            assert gb.attempts("a1") == []  # nothing recorded: bob's blank notebook is no 5/5
    assert summary.count("failed") == 2 and summary.count("graded") == 0
    assert all("the worker sent a Executed, not bytes" in e.message for e in summary.events)
    assert not marker.exists() and not marker.parent.exists()


@pytest.fixture(scope="module")
def tls_cluster(small_class, tmp_path_factory):
    """A TLS scheduler and one worker with the cluster's certificates, and two impostors
    (rogue workers, one with no certificate, one with another CA's) that try to join."""
    folder = tmp_path_factory.mktemp("tls")
    for name in ("certs", "other"):
        made = CliRunner().invoke(main, ["cluster-certs", str(folder / name)])
        assert made.exit_code == 0, made.output
    certs, other = folder / "certs", folder / "other"
    rogue = ["--preload", str(TESTS / "rogue_worker.py")]
    env = {**os.environ, "ROGUE_MARKER": str(folder / "marker")}
    with ExitStack() as stack:
        address = start_scheduler(stack, folder, *tls_args(certs, "scheduler"))
        assert address.startswith("tls://127.0.0.1:")
        start_worker(stack, folder, "honest", address, *tls_args(certs, "worker"))
        impostors = [
            # plain tcp:// to the scheduler's port: what a worker with no certificate can try
            start_worker(
                stack, folder, "no-cert", address.replace("tls://", "tcp://"), *rogue, env=env
            ),
            start_worker(
                stack, folder, "other-ca", address, *tls_args(other, "worker"), *rogue, env=env
            ),
        ]
        wait_for_workers(address, {"honest"}, certs)
        yield address, certs, impostors, folder


@pytest.mark.kernel
def test_a_tls_cluster_grades_the_same_gradebook_as_the_local_backend(
    small_class, tls_cluster, tmp_path
):
    course, found = small_class
    address, certs, _, _ = tls_cluster
    with Gradebook(tmp_path / "local.db") as gb:
        grade_batch(course, found, gb, OPTIONS, BatchOptions(workers=2, assignment="a1"))
        local = scores(gb)
    assert local == {"alice": ("graded", 5), "bob": ("graded", 0), "carol": ("graded", 3)}
    with Gradebook(tmp_path / "tls.db") as gb:
        batch = BatchOptions(assignment="a1", scheduler=address, certs=certs)
        summary = grade_batch(course, found, gb, OPTIONS, batch)
        assert scores(gb) == local and summary.count("graded") == 3


@pytest.mark.kernel
def test_a_worker_without_the_certificate_cannot_join(tls_cluster):
    address, certs, impostors, folder = tls_cluster
    for proc in impostors:  # each gives up (--death-timeout) without having joined
        assert proc.wait(60) != 0
    wait_for_workers(address, {"honest"}, certs)
    log = (folder / "scheduler.log").read_text()
    assert log.count("Register worker") == 1, log
    assert "Registered to" not in (folder / "no-cert.log").read_text()
    assert "Registered to" not in (folder / "other-ca.log").read_text()


@pytest.mark.kernel
def test_a_lost_courier_fails_the_jobs_it_had_and_the_batch_ends(
    small_class, tls_cluster, tmp_path
):
    import psutil

    course, found = small_class
    address, certs, _, _ = tls_cluster
    killed = []

    def kill_the_courier(event):
        if not killed:  # after the first result, while the others are out
            for child in psutil.Process().children():
                if "grader.backends.courier" in " ".join(child.cmdline()):
                    child.kill()  # the courier (or the bubblewrap that holds it)
                    killed.append(child.pid)

    with Gradebook(tmp_path / "gb.db") as gb:
        batch = BatchOptions(assignment="a1", scheduler=address, certs=certs)
        summary = grade_batch(course, found, gb, OPTIONS, batch, kill_the_courier)
        assert killed and len(gb.attempts("a1")) == 1
    assert summary.count("graded") == 1 and summary.count("failed") == 2
    failed = [e.message for e in summary.events if e.status == "failed"]
    assert all(m.startswith("the Dask courier stopped") and "\n" not in m for m in failed)
