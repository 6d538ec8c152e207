"""Dev CA generated once and reused; signing backends chosen by configuration; secrets and settings."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.documents.errors import ConfigurationError
from bot.documents.keys import DOCUMENT_SIGNING_EKU, SANDBOX_LABEL, ensure_dev_keys, load_or_create_secret
from bot.documents.pades import validate_pdf
from bot.documents.runtime import build_documents
from bot.documents.service import DocumentRenderer
from bot.documents.settings import DocumentSettings, document_settings_from
from bot.documents.signing import BACKENDS, DevBackend, Signer, backend_registry, open_signer
from bot.documents.templates import DocumentKind
from bot.settings import Settings
from tests.documents.conftest import make_settings
from tests.documents.test_pdf import draft_of


def test_dev_keys_are_generated_once_and_reused(tmp_path: Path) -> None:
    first = ensure_dev_keys(tmp_path / "keys")
    before = first.signer_cert.read_bytes(), first.ca_cert.read_bytes()

    again = ensure_dev_keys(tmp_path / "keys")

    assert again == first
    assert (again.signer_cert.read_bytes(), again.ca_cert.read_bytes()) == before
    assert stat.S_IMODE(first.signer_key.stat().st_mode) == 0o600


def test_dev_certificates_follow_the_profile(tmp_path: Path) -> None:
    files = ensure_dev_keys(tmp_path / "keys")
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    signer = x509.load_pem_x509_certificate(files.signer_cert.read_bytes())

    key = signer.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    usage = signer.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    eku = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert DOCUMENT_SIGNING_EKU in eku and ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    assert signer.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    for certificate in (ca, signer):
        common_name = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        assert SANDBOX_LABEL in str(common_name)
    assert signer.issuer == ca.subject


def test_secrets_are_created_once(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "enlaces.secret"

    first = load_or_create_secret(path)

    assert load_or_create_secret(path) == first
    assert len(first) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_backends_are_registered_once_each() -> None:
    assert set(backend_registry()) == {"dev", "pkcs12", "pkcs11"}
    with pytest.raises(ValueError):
        backend_registry([*BACKENDS, DevBackend])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"signing_backend": "hsm-magico"}, "unknown signing backend"),
        ({"sandbox": False}, "only in the sandbox"),
        ({"signing_backend": "pkcs12"}, "PKCS12_PATH"),
        ({"signing_backend": "pkcs11"}, "PKCS11_MODULE"),
    ],
)
def test_misconfigured_signers_are_refused(tmp_path: Path, overrides: dict[str, object], message: str) -> None:
    settings = make_settings(tmp_path, tmp_path, **overrides)

    with pytest.raises(ConfigurationError, match=message):
        open_signer(settings)


def _pkcs12(tmp_path: Path, passphrase: bytes) -> tuple[Path, Path]:
    files = ensure_dev_keys(tmp_path / "origen" / "keys")
    key = serialization.load_pem_private_key(files.signer_key.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    certificate = x509.load_pem_x509_certificate(files.signer_cert.read_bytes())
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    bundle = pkcs12.serialize_key_and_certificates(
        b"firmante", key, certificate, [ca], serialization.BestAvailableEncryption(passphrase)
    )
    path = tmp_path / "firmante.p12"
    path.write_bytes(bundle)
    return path, files.ca_cert


def test_pkcs12_backend_signs_pdfs_that_validate(tmp_path: Path, renderer: DocumentRenderer) -> None:
    p12, ca = _pkcs12(tmp_path, b"clave-de-prueba")
    settings = make_settings(
        tmp_path / "prod",
        tmp_path,
        sandbox=False,
        signing_backend="pkcs12",
        pkcs12_path=p12,
        pkcs12_passphrase="clave-de-prueba",
        trust_roots=(ca,),
    )

    signer = open_signer(settings)
    production = DocumentRenderer(
        plantillas=renderer.plantillas, signer=signer, fonts=renderer.fonts, public_base_url="x", sandbox=False
    )
    pdf = production.signed_pdf(draft_of(production, DocumentKind.CEDULA_DIGITAL))

    assert signer.backend == "pkcs12"
    assert validate_pdf(pdf, trust_roots=signer.trust_roots).ok
    assert not (tmp_path / "prod" / "keys").exists()  # production never generates keys


def test_pkcs12_with_a_wrong_passphrase_is_refused(tmp_path: Path) -> None:
    p12, ca = _pkcs12(tmp_path, b"correcta")
    settings = make_settings(
        tmp_path, tmp_path, signing_backend="pkcs12", pkcs12_path=p12, pkcs12_passphrase="otra", trust_roots=(ca,)
    )

    with pytest.raises(ConfigurationError):
        open_signer(settings)


def test_secrets_are_required_outside_the_sandbox(
    tmp_path: Path, sqlite_sessions: async_sessionmaker[AsyncSession], signer: Signer
) -> None:
    settings = make_settings(tmp_path, tmp_path, sandbox=False, link_secret="")

    with pytest.raises(ConfigurationError, match="LINK_SECRET"):
        build_documents(settings, sessions=sqlite_sessions, signer=signer)


def test_settings_come_from_the_process_settings_and_the_environment(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var", environment="production", public_base_url="https://chasqui.gob.ec/")
    environ = {
        "CHASQUI_DOCUMENTS_SIGNING_BACKEND": "pkcs12",
        "CHASQUI_DOCUMENTS_PKCS12_PATH": "/secretos/firmante.p12",
        "CHASQUI_DOCUMENTS_SHARE_MINUTES": "5",
        "CHASQUI_DOCUMENTS_TRUST_ROOTS": "/a.pem:/b.pem",
        "CHASQUI_DOCUMENTS_PKCS12_PASSPHRASE": "muy-secreta",
    }

    derived = document_settings_from(settings, environ=environ)

    assert derived == DocumentSettings(
        var_dir=tmp_path / "var",
        templates_dir=settings.project_dir / "data" / "plantillas",
        public_base_url="https://chasqui.gob.ec",
        sandbox=False,
        signing_backend="pkcs12",
        share_minutes=5,
        trust_roots=(Path("/a.pem"), Path("/b.pem")),
        pkcs12_path=Path("/secretos/firmante.p12"),
        pkcs12_passphrase="muy-secreta",
    )
    assert "muy-secreta" not in repr(derived)
