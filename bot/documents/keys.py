"""Development CA and document-signing key, generated once under ``<var_dir>/keys/dev/`` and reused.

The CA and the signer are labelled "SANDBOX – sin validez legal": they exist so that development,
demos and tests sign real PAdES signatures. Production signs with a PKCS#12 file or a PKCS#11 token
from an accredited CA instead (`bot.documents.signing`). No private key lives in the repository.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

SANDBOX_LABEL = "SANDBOX – sin validez legal"
DOCUMENT_SIGNING_EKU = ObjectIdentifier("1.3.6.1.5.5.7.3.36")  # id-kp-documentSigning, RFC 9336
CA_DAYS = 3650
SIGNER_DAYS = 825


@dataclass(frozen=True)
class DevKeyFiles:
    """Paths of the development CA certificate and the signer's key and certificate (PEM)."""

    ca_cert: Path
    signer_key: Path
    signer_cert: Path


def dev_key_files(keys_dir: Path) -> DevKeyFiles:
    directory = keys_dir / "dev"
    return DevKeyFiles(
        ca_cert=directory / "ca.pem", signer_key=directory / "firmante.key.pem", signer_cert=directory / "firmante.pem"
    )


def ensure_dev_keys(keys_dir: Path, *, now: datetime | None = None) -> DevKeyFiles:
    """Return the development keys, generating them on first use.

    Generation happens in a private temporary folder that is renamed into place, so two processes
    starting together (gateway and action server) end up sharing one CA instead of two.
    """
    files = dev_key_files(keys_dir)
    if files.signer_cert.exists():
        return files
    keys_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".dev-", dir=keys_dir))
    try:
        _write_dev_keys(staging, now or datetime.now(UTC))
        with contextlib.suppress(OSError):  # another process won the race: use its keys
            staging.rename(files.signer_cert.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return files


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "EC"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"Chasqui ({SANDBOX_LABEL})"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_dev_keys(directory: Path, now: datetime) -> None:
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    ca_name = _name(f"Chasqui CA de desarrollo ({SANDBOX_LABEL})")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"Chasqui firma de documentos ({SANDBOX_LABEL})"))
        .issuer_name(ca_name)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=SIGNER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([DOCUMENT_SIGNING_EKU, ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = dev_key_files(directory.parent)
    _write_private(directory / files.signer_key.name, _pem_key(signer_key))
    # The CA key is kept beside it so a developer can issue a new signer certificate by hand.
    _write_private(directory / "ca.key.pem", _pem_key(ca_key))
    (directory / files.ca_cert.name).write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (directory / files.signer_cert.name).write_bytes(signer_cert.public_bytes(serialization.Encoding.PEM))


def _key_usage(
    *,
    digital_signature: bool = False,
    content_commitment: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _pem_key(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def load_or_create_secret(path: Path) -> bytes:
    """Read a 32-byte secret from ``path``, creating it (mode 0600) on first use.

    Only the sandbox calls this; other environments must configure their secrets explicitly.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and linked into place, so a concurrent reader never sees a half-written file.
        staging = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        _write_private(staging, secrets.token_hex(32).encode("ascii"))
        try:
            with contextlib.suppress(FileExistsError):  # another process created it first
                os.link(staging, path)
        finally:
            staging.unlink()
    value = path.read_bytes().strip()
    if len(value) < 32:
        raise ValueError(f"secret in {path} is shorter than 32 characters")
    return value
