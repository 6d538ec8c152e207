"""The prepared PAdES container is pyHanko's, byte for byte, except the signature value; QR codes by zxing-cpp."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
import segno
import zxingcpp
from asn1crypto import cms, core
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image

from bot.documents.cms import CmsLayout, PreparedCmsSigner, der
from bot.documents.render import qr_matrix
from bot.documents.signing import Signer

DIGEST = hashlib.sha256(b"un documento").digest()


def without_signature(container: cms.ContentInfo) -> dict[str, Any]:
    native: dict[str, Any] = cms.ContentInfo.load(container.dump()).native
    for signer_info in native["content"]["signer_infos"]:
        signer_info["signature"] = b""
    return native


def signed_attributes(container: cms.ContentInfo) -> bytes:
    signer_info = cms.ContentInfo.load(container.dump())["content"]["signer_infos"][0]
    return bytes(signer_info["signed_attrs"].untag().dump())


@pytest.mark.parametrize("size", [0, 1, 127, 128, 255, 256, 70_000])
def test_der_lengths_match_asn1crypto(size: int) -> None:
    assert der(0x04, b"x" * size) == core.OctetString(b"x" * size).dump()


async def test_prepared_container_is_pyhankos_but_for_the_signature(signer: Signer) -> None:
    prepared = PreparedCmsSigner(signer.pdf_signer)

    ours = await prepared.async_sign(DIGEST, "sha256", use_pades=True)
    pyhankos = await signer.pdf_signer.async_sign(DIGEST, "sha256", use_pades=True)

    assert await prepared.layout("sha256") is not None
    assert without_signature(ours) == without_signature(pyhankos)
    assert signed_attributes(ours) == signed_attributes(pyhankos)
    signature = ours["content"]["signer_infos"][0]["signature"].native
    key = signer.x509_certificate.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(signature, signed_attributes(ours), ec.ECDSA(hashes.SHA256()))  # raises when it does not match


async def test_each_document_gets_its_own_digest_and_signature(signer: Signer) -> None:
    prepared = PreparedCmsSigner(signer.pdf_signer)
    other = hashlib.sha256(b"otro documento").digest()

    first = await prepared.async_sign(DIGEST, "sha256", use_pades=True)
    second = await prepared.async_sign(other, "sha256", use_pades=True)

    digests = [
        {a["type"].native: a["values"][0].native for a in c["content"]["signer_infos"][0]["signed_attrs"]}[
            "message_digest"
        ]
        for c in (first, second)
    ]
    assert digests == [DIGEST, other]


async def test_requests_the_layout_does_not_cover_go_to_pyhanko(signer: Signer) -> None:
    prepared = PreparedCmsSigner(signer.pdf_signer)

    generic = await prepared.async_sign(DIGEST, "sha256", use_pades=False)

    attributes = [a["type"].native for a in generic["content"]["signer_infos"][0]["signed_attrs"]]
    assert "cms_algorithm_protection" in attributes  # pyHanko's generic CMS attributes, not PAdES ones


async def test_another_digest_gets_its_own_layout(signer: Signer) -> None:
    prepared = PreparedCmsSigner(signer.pdf_signer)
    digest = hashlib.sha512(b"un documento").digest()

    container = await prepared.async_sign(digest, "sha512", use_pades=True)

    signed_data = container["content"]
    assert signed_data["digest_algorithms"][0]["algorithm"].native == "sha512"
    assert {a["type"].native: a["values"][0].native for a in signed_data["signer_infos"][0]["signed_attrs"]}[
        "message_digest"
    ] == digest
    assert await prepared.layout("sha512") is not None


async def test_a_reference_that_does_not_hold_the_digest_is_refused(signer: Signer) -> None:
    reference = await signer.pdf_signer.async_sign(DIGEST, "sha256", use_pades=True)

    with pytest.raises(ValueError, match="message digest"):
        CmsLayout.from_reference(reference, hashlib.sha256(b"otro").digest(), "sha256")


def test_signed_attributes_refuse_a_digest_of_another_size(signer: Signer) -> None:
    import asyncio

    reference = asyncio.run(signer.pdf_signer.async_sign(DIGEST, "sha256", use_pades=True))
    layout = CmsLayout.from_reference(reference, DIGEST, "sha256")

    with pytest.raises(ValueError, match="32 bytes"):
        layout.signed_attributes(b"corto")


@pytest.mark.parametrize(
    ("text", "error"), [("https://chasqui.prueba.ec/verificar/ABCD-EFGH-JKMN-PQRS", "m"), ("EC1:" + "6BF" * 120, "q")]
)
def test_qr_matrix_reads_back_at_segnos_version(text: str, error: str) -> None:
    matrix = qr_matrix(text, error=error)
    image = Image.new("L", (len(matrix) * 4, len(matrix) * 4), 255)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                image.paste(0, (c * 4, r * 4, c * 4 + 4, r * 4 + 4))
    out = io.BytesIO()
    image.save(out, format="PNG")

    (result,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(out.getvalue())))
    assert result.text == text
    assert result.ec_level == error.upper()
    # The smallest version that holds the text at that level, as segno chooses: 4 quiet modules each side.
    assert len(matrix) - 8 == segno.make(text, error=error, boost_error=False).symbol_size(border=0)[0]
