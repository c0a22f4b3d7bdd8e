"""``grade cluster-certs DIR``: the certificates of a Dask cluster's own TLS.

A fresh certificate authority signs one certificate and key for the scheduler, one for the
workers and one for the client (the coordinator's courier). Dask checks both ends of every
connection against the CA, so only holders of one of these keys join the cluster. The CA's
own key is not kept: nothing more can be signed with it (make a new folder to replace them
all). Keys are written mode 600, and no file is ever overwritten.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from ..errors import GraderError
from .cluster import CA, ROLES, cert_files


def certificate_names() -> tuple[str, ...]:
    """The files ``make_certificates`` writes."""
    return (CA, *(name for role in ROLES for name in cert_files(role)))


def make_certificates(folder: Path, days: int = 365) -> tuple[Path, ...]:
    """Write a new CA's certificate and the role certificates and keys into ``folder``."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError:
        raise GraderError(
            "grade cluster-certs needs the cryptography package: "
            "pip install the grader with its [dask] extra"
        ) from None
    taken = [name for name in certificate_names() if (folder / name).exists()]
    if taken:
        raise GraderError(
            f"{folder} already holds {taken[0]}: choose another folder (a "
            "cluster started with the old certificates would stop working)"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as e:
        raise GraderError(f"cannot make {folder}: {e.strerror}") from None

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "grade cluster CA")])

    def certificate(name: x509.Name, key: Any, ca: bool) -> x509.Certificate:
        usage = dict.fromkeys(
            (
                "content_commitment",
                "key_encipherment",
                "data_encipherment",
                "key_agreement",
                "encipher_only",
                "decipher_only",
            ),
            False,
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), True)
            .add_extension(
                x509.KeyUsage(digital_signature=True, key_cert_sign=ca, crl_sign=ca, **usage),
                True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
            )
        )
        if not ca:  # every member both listens and connects
            builder = builder.add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                False,
            )
        return builder.sign(ca_key, hashes.SHA256())

    pem = serialization.Encoding.PEM
    written = [_write(folder / CA, certificate(ca_name, ca_key, True).public_bytes(pem), 0o644)]
    for role in ROLES:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"grade {role}")])
        cert_name, key_name = cert_files(role)
        written.append(
            _write(folder / cert_name, certificate(subject, key, False).public_bytes(pem), 0o644)
        )
        private = key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        written.append(_write(folder / key_name, private, 0o600))
    return tuple(written)


def _write(path: Path, data: bytes, mode: int) -> Path:
    """A new file of ``data`` (never over another), created with ``mode`` from the start."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, mode)  # whatever the umask
    return path
