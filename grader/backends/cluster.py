"""Which Dask cluster a batch runs on, and whether it may: the scheduler's address and the
certificates that let the coordinator (through its courier) join it.

Anyone who can reach a scheduler on plain ``tcp://`` can join it as a worker, and a worker
sees every submission it runs and can make up its results. So a ``tcp://`` scheduler on
another machine is refused unless the operator says ``--insecure``; the loopback (one
machine, the tests) is allowed. ``tls://`` needs the certificates ``grade cluster-certs``
makes: Dask then requires TLS, and only holders of a certificate of the cluster's own CA
join it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import GraderError

SCHEMES = ("tcp", "tls")
CA = "ca.pem"
ROLES = ("scheduler", "worker", "client")


def cert_files(role: str) -> tuple[str, str]:
    """The certificate and key file names of a role, in a ``grade cluster-certs`` folder."""
    return f"{role}.pem", f"{role}-key.pem"


@dataclass(frozen=True)
class Cluster:
    """A scheduler to run a batch's jobs on, and the client's TLS files (``tls://`` only)."""

    address: str
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None

    @property
    def tls_files(self) -> tuple[Path, ...]:
        """The files the client reads (the CA's certificate, its own certificate and key)."""
        return tuple(p for p in (self.ca, self.cert, self.key) if p is not None)


def cluster(address: str, certs: Path | None = None, insecure: bool = False) -> Cluster:
    """The cluster at ``address``, checked: GraderError (one line) when it may not be used."""
    scheme, _, rest = address.partition("://")
    if not rest:
        scheme, rest = "tcp", address  # Dask's default
    if scheme not in SCHEMES:
        raise GraderError(f"--scheduler {address}: use a tls:// (or tcp://) address")
    try:
        host = urlsplit(f"{scheme}://{rest}").hostname
        urlsplit(f"{scheme}://{rest}").port  # noqa: B018  (raises for a port that is not one)
    except ValueError as e:
        raise GraderError(f"--scheduler {address}: not an address ({e})") from None
    if not host:
        raise GraderError(f"--scheduler {address}: no host")
    if scheme == "tls":
        if certs is None:
            raise GraderError(
                f"--scheduler {address} needs --certs DIR, the certificates made by "
                "`grade cluster-certs DIR`"
            )
        folder = certs.resolve()  # the courier reads them at this path, in its sandbox too
        ca, (cert, key) = folder / CA, (folder / name for name in cert_files("client"))
        for path in (ca, cert, key):
            if not path.is_file():
                raise GraderError(f"--certs {certs}: no {path.name} (made by grade cluster-certs)")
        return Cluster(address, ca, cert, key)
    if certs is not None:
        raise GraderError(f"--certs is for a tls:// scheduler, not {address}")
    if not insecure and not _loopback(host):
        raise GraderError(
            f"--scheduler {address}: on plain tcp:// anyone who can reach the scheduler can "
            "join as a worker, see every submission and make up its results; use tls:// "
            "with --certs (grade cluster-certs), or pass --insecure"
        )
    return Cluster(f"{scheme}://{rest}")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: what it resolves to is not ours to trust
