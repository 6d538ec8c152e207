"""Signing backends: where the document-signing key lives (dev CA, PKCS#12 file or PKCS#11 token).

Each backend is a small adapter with a ``code`` that opens a `Signer`; `BACKENDS` is the one explicit
list, and `open_signer` picks the configured one. Everything downstream (PAdES, QR tokens) talks to
`Signer` only, so production swaps the key without touching the documents code.
"""

from __future__ import annotations

import abc
import asyncio
import hashlib
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import ClassVar

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, load_pem_private_key, pkcs12
from pyhanko.sign import signers

from bot.documents.cms import PreparedCmsSigner
from bot.documents.errors import ConfigurationError
from bot.documents.keys import ensure_dev_keys
from bot.documents.settings import DocumentSettings


class Signer:
    """The document-signing key and certificate, whatever holds them.

    Args:
        pdf_signer: pyHanko's signer holding the key; PAdES signatures go through `cms_signer`, which wraps it.
        trust_roots: certificates a verifier trusts for this signer's chain.
        backend: code of the backend that opened it.
    """

    def __init__(
        self, pdf_signer: signers.Signer, *, trust_roots: Sequence[asn1_x509.Certificate], backend: str
    ) -> None:
        if pdf_signer.signing_cert is None:
            raise ConfigurationError("the signing backend gave no signer certificate")
        self.pdf_signer = pdf_signer
        self.cms_signer: signers.Signer = PreparedCmsSigner(pdf_signer)
        self.trust_roots = tuple(trust_roots)
        self.backend = backend
        self.certificate: asn1_x509.Certificate = pdf_signer.signing_cert
        self.x509_certificate = x509.load_der_x509_certificate(self.certificate.dump())
        key = self.x509_certificate.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise ConfigurationError("the document-signing key must be EC P-256 (ES256 tokens)")
        self.public_key: ec.EllipticCurvePublicKey = key

    @cached_property
    def kid(self) -> bytes:
        """First 8 bytes of the SHA-256 of the certificate (as in EU-DCC)."""
        return certificate_kid(self.x509_certificate)

    @cached_property
    def subject(self) -> str:
        return str(self.certificate.subject.native.get("common_name", ""))

    def sign_es256(self, data: bytes) -> bytes:
        """ECDSA P-256 / SHA-256 signature of ``data`` as raw ``r || s`` (64 bytes), as JOSE and COSE want.

        Blocking: call it from a worker thread, never from inside a running event loop.
        """
        if isinstance(self.pdf_signer, signers.SimpleSigner):
            der = self.pdf_signer.sign_raw(data, "sha256")
        else:
            der = asyncio.run(self.pdf_signer.async_sign_raw(data, "sha256"))
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def certificate_kid(certificate: x509.Certificate) -> bytes:
    return hashlib.sha256(certificate.public_bytes(Encoding.DER)).digest()[:8]


class SigningBackend(abc.ABC):
    """Opens the `Signer` for one kind of key storage."""

    code: ClassVar[str]
    allowed_outside_sandbox: ClassVar[bool] = True

    @abc.abstractmethod
    def open(self, settings: DocumentSettings) -> Signer:
        """Load the key and certificate described by ``settings``."""


def load_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate in a PEM file (or the one in a DER file)."""
    data = path.read_bytes()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def to_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))


def _extra_roots(settings: DocumentSettings) -> list[asn1_x509.Certificate]:
    try:
        return [to_asn1(c) for path in settings.trust_roots for c in load_certificates(path)]
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"a trust root in CHASQUI_DOCUMENTS_TRUST_ROOTS cannot be read: {exc}") from exc


class DevBackend(SigningBackend):
    """The development CA generated under ``<var_dir>/keys/dev`` ("SANDBOX – sin validez legal")."""

    code = "dev"
    allowed_outside_sandbox = False

    def open(self, settings: DocumentSettings) -> Signer:
        files = ensure_dev_keys(settings.keys_dir)
        try:
            key = load_pem_private_key(files.signer_key.read_bytes(), password=None)
            (certificate,) = load_certificates(files.signer_cert)
            (root,) = load_certificates(files.ca_cert)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ValueError("the development signer key is not EC")
            # Through PKCS#12 in memory: the one typed loader pyHanko offers for key + chain.
            bundle = pkcs12.serialize_key_and_certificates(
                b"firmante", key, certificate, [root], encryption_algorithm=serialization.NoEncryption()
            )
            pdf_signer = signers.SimpleSigner.load_pkcs12_data(bundle, other_certs=(), passphrase=None)
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"the development keys under {files.ca_cert.parent} cannot be read") from exc
        return Signer(pdf_signer, trust_roots=[to_asn1(root), *_extra_roots(settings)], backend=self.code)


class Pkcs12Backend(SigningBackend):
    """A PKCS#12 file (``.p12``/``.pfx``) holding the key, its certificate and chain."""

    code = "pkcs12"

    def open(self, settings: DocumentSettings) -> Signer:
        path = settings.pkcs12_path
        if path is None or not Path(path).is_file():
            raise ConfigurationError("CHASQUI_DOCUMENTS_PKCS12_PATH must name a readable PKCS#12 file")
        try:
            pdf_signer = signers.SimpleSigner.load_pkcs12_data(
                Path(path).read_bytes(),
                other_certs=(),
                passphrase=settings.pkcs12_passphrase.encode("utf-8") or None,
            )
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(f"the PKCS#12 file cannot be opened: {exc}") from exc
        roots = _extra_roots(settings)
        if not roots:
            raise ConfigurationError("CHASQUI_DOCUMENTS_TRUST_ROOTS must list the CA certificates verifiers trust")
        return Signer(pdf_signer, trust_roots=roots, backend=self.code)


class Pkcs11Backend(SigningBackend):
    """A key in an HSM or smart card, through pyHanko's ``PKCS11Signer`` (needs ``pyhanko[pkcs11]``)."""

    code = "pkcs11"

    def open(self, settings: DocumentSettings) -> Signer:
        if not settings.pkcs11_module or not (settings.pkcs11_key_label or settings.pkcs11_cert_label):
            raise ConfigurationError("PKCS#11 needs CHASQUI_DOCUMENTS_PKCS11_MODULE and a key or certificate label")
        try:
            from pyhanko.config.pkcs11 import TokenCriteria
            from pyhanko.sign import pkcs11
        except ImportError as exc:  # python-pkcs11 is an optional extra
            raise ConfigurationError("the pkcs11 backend needs `pip install pyhanko[pkcs11]`") from exc
        session = pkcs11.open_pkcs11_session(
            settings.pkcs11_module,
            token_criteria=TokenCriteria(label=settings.pkcs11_token_label or None),
            user_pin=settings.pkcs11_pin or None,
        )
        pdf_signer = pkcs11.PKCS11Signer(
            session,
            cert_label=settings.pkcs11_cert_label or None,
            key_label=settings.pkcs11_key_label or None,
            other_certs_to_pull=None,
        )
        roots = _extra_roots(settings)
        if not roots:
            raise ConfigurationError("CHASQUI_DOCUMENTS_TRUST_ROOTS must list the CA certificates verifiers trust")
        return Signer(pdf_signer, trust_roots=roots, backend=self.code)


BACKENDS: tuple[type[SigningBackend], ...] = (DevBackend, Pkcs12Backend, Pkcs11Backend)


def backend_registry(backends: Sequence[type[SigningBackend]] = BACKENDS) -> dict[str, type[SigningBackend]]:
    """Index backends by code; a code used twice is a programming error."""
    registry: dict[str, type[SigningBackend]] = {}
    for backend in backends:
        if backend.code in registry:
            raise ValueError(f"signing backend code {backend.code!r} registered twice")
        registry[backend.code] = backend
    return registry


def open_signer(settings: DocumentSettings) -> Signer:
    """Open the signer of the configured backend (blocking: call at start-up or from a thread).

    Raises:
        ConfigurationError: unknown backend, the dev CA outside the sandbox, or an unusable key.
    """
    backend = backend_registry().get(settings.signing_backend)
    if backend is None:
        raise ConfigurationError(f"unknown signing backend {settings.signing_backend!r}")
    if not settings.sandbox and not backend.allowed_outside_sandbox:
        raise ConfigurationError("the development CA signs only in the sandbox; configure pkcs12 or pkcs11")
    return backend().open(settings)
