"""PAdES signature containers framed from parts prepared once per signer, instead of re-encoded per document.

pyHanko builds each signature's CMS ``SignedData`` with asn1crypto, which encodes the whole certificate chain
again every time (about 10 ms per document, and twice: once more to estimate the container's size). In a
PAdES signature of ours, everything in that container is the same for every document except the document's
digest and the signature value. `PreparedCmsSigner` asks pyHanko once for a reference container, keeps its
encoded parts, and per document only puts the digest into the signed attributes, signs them and frames the
result: one hash and one ECDSA/RSA operation, as the issue put it.

It checks, when preparing, that framing the reference's own parts gives back pyHanko's bytes exactly. When it
does not (a pyHanko upgrade that lays the container out differently), or when a signature asks for something
the reference does not cover (a timestamp, CAdES attributes, another digest, a MAC), pyHanko signs unchanged.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms
from pyhanko.sign import signers

SEQUENCE, SET, OCTET_STRING, CONTEXT_0 = 0x30, 0x31, 0x04, 0xA0  # DER identifier octets used here
SIGNED_DATA_FIELDS = ("version", "digest_algorithms", "encap_content_info", "certificates", "crls")
SIGNER_INFO_HEAD = ("version", "sid", "digest_algorithm")


def der(tag: int, content: bytes) -> bytes:
    """One DER TLV: ``tag``, the definite length of ``content``, ``content``."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    octets = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(octets))) + octets + content


@dataclass(frozen=True)
class CmsLayout:
    """The constant parts of one signer's PAdES container, already DER-encoded.

    Attributes:
        digest_algorithm: the digest they were prepared for (``sha256``).
        digest_size: its length in bytes.
        content_type: ``ContentInfo.contentType`` (the signedData OID).
        signed_data_head: ``SignedData`` fields before ``signerInfos`` (version, algorithms, certificates…).
        signer_info_head: ``SignerInfo`` fields before ``signedAttrs`` (version, sid, digest algorithm).
        attributes: the signed attributes in pyHanko's order; the message digest's is only its prefix.
        digest_index: where the message digest attribute sits in ``attributes``.
        signature_algorithm: ``SignerInfo.signatureAlgorithm``.
    """

    digest_algorithm: str
    digest_size: int
    content_type: bytes
    signed_data_head: bytes
    signer_info_head: bytes
    attributes: tuple[bytes, ...]
    digest_index: int
    signature_algorithm: bytes

    @classmethod
    def from_reference(cls, reference: cms.ContentInfo, digest: bytes, digest_algorithm: str) -> CmsLayout:
        """Cut a container pyHanko made for ``digest`` into its parts.

        Raises:
            ValueError: the container is not one plain signature over ``digest`` (several signers, unsigned
                attributes, no message digest attribute).
        """
        parsed = cms.ContentInfo.load(reference.dump())
        signed_data = parsed["content"]
        signer_infos = signed_data["signer_infos"]
        if len(signer_infos) != 1:
            raise ValueError("the reference container has more than one signer")
        signer_info = signer_infos[0]
        if signer_info["unsigned_attrs"].dump():
            raise ValueError("the reference container has unsigned attributes")
        attributes, digest_index = [], -1
        for i, attribute in enumerate(signer_info["signed_attrs"]):
            encoded = attribute.dump()
            if attribute["type"].native == "message_digest":
                if not encoded.endswith(digest):
                    raise ValueError("the message digest attribute does not end with the digest")
                encoded, digest_index = encoded[: -len(digest)], i
            attributes.append(encoded)
        if digest_index < 0:
            raise ValueError("the reference container has no message digest attribute")
        return cls(
            digest_algorithm=digest_algorithm,
            digest_size=len(digest),
            content_type=parsed["content_type"].dump(),
            signed_data_head=b"".join(signed_data[name].dump() for name in SIGNED_DATA_FIELDS),
            signer_info_head=b"".join(signer_info[name].dump() for name in SIGNER_INFO_HEAD),
            attributes=tuple(attributes),
            digest_index=digest_index,
            signature_algorithm=signer_info["signature_algorithm"].dump(),
        )

    def signed_attributes(self, digest: bytes) -> bytes:
        """The content of the ``signedAttrs`` SET for a document whose digest is ``digest``."""
        if len(digest) != self.digest_size:
            raise ValueError(f"a {self.digest_algorithm} digest has {self.digest_size} bytes, not {len(digest)}")
        parts = list(self.attributes)
        parts[self.digest_index] += digest
        return b"".join(parts)

    def frame(self, signed_attributes: bytes, signature: bytes) -> bytes:
        """The DER ``ContentInfo`` holding ``signature`` over ``signed_attributes``."""
        signer_info = der(
            SEQUENCE,
            self.signer_info_head
            + der(CONTEXT_0, signed_attributes)  # [0] IMPLICIT SET OF Attribute
            + self.signature_algorithm
            + der(OCTET_STRING, signature),
        )
        signed_data = der(SEQUENCE, self.signed_data_head + der(SET, signer_info))
        return der(SEQUENCE, self.content_type + der(CONTEXT_0, signed_data))  # [0] EXPLICIT content


class PreparedCmsSigner(signers.Signer):
    """A pyHanko signer that frames PAdES containers from a `CmsLayout`; the key stays in ``inner``.

    Args:
        inner: the signer holding the key (``SimpleSigner``, ``PKCS11Signer``…); it signs the raw bytes.
    """

    def __init__(self, inner: signers.Signer) -> None:
        super().__init__(
            prefer_pss=inner.prefer_pss,
            embed_roots=inner.embed_roots,
            signature_mechanism=inner.signature_mechanism,
            signing_cert=inner.signing_cert,
            cert_registry=inner.cert_registry,
            attribute_certs=inner.attribute_certs,
        )
        self.inner = inner
        self._layouts: dict[str, CmsLayout | None] = {}

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        return await self.inner.async_sign_raw(data, digest_algorithm, dry_run)

    async def layout(self, digest_algorithm: str) -> CmsLayout | None:
        """The prepared parts for ``digest_algorithm`` (made on first use); None when pyHanko must sign."""
        if digest_algorithm in self._layouts:
            return self._layouts[digest_algorithm]
        layout: CmsLayout | None = None
        digest = hashlib.new(digest_algorithm, secrets.token_bytes(32)).digest()
        reference = await super().async_sign(digest, digest_algorithm, use_pades=True)
        try:
            layout = CmsLayout.from_reference(reference, digest, digest_algorithm)
            signed_data = reference["content"]
            attributes = layout.signed_attributes(digest)
            signature = signed_data["signer_infos"][0]["signature"].native
            if layout.frame(attributes, signature) != reference.dump():
                raise ValueError("framing the reference's parts does not give back its bytes")
        except (ValueError, KeyError) as exc:
            logging.getLogger(__name__).warning("PAdES containers are built by pyHanko per document: %s", exc)
            layout = None
        self._layouts[digest_algorithm] = layout
        return layout

    def _covered(self, **request: Any) -> bool:
        """Whether a signature asked for with ``request`` is the plain PAdES one a layout reproduces."""
        settings = request["signed_attr_settings"]
        return (
            request["use_pades"]
            and request["is_pdf_sig"]
            and request["timestamper"] is None
            and request["encap_content_info"] is None
            and (settings is None or settings.cades_signed_attrs is None)
            and self.signed_attr_prov_spec is None
            and self.unsigned_attr_prov_spec is None
        )

    async def async_sign(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run: bool = False,
        use_pades: bool = False,
        timestamper: Any = None,
        signed_attr_settings: Any = None,
        is_pdf_sig: bool = True,
        encap_content_info: Any = None,
    ) -> cms.ContentInfo:
        """pyHanko's `Signer.async_sign`, framed from the prepared layout when it covers the request."""
        request = {
            "use_pades": use_pades,
            "timestamper": timestamper,
            "signed_attr_settings": signed_attr_settings,
            "is_pdf_sig": is_pdf_sig,
            "encap_content_info": encap_content_info,
        }
        layout = await self.layout(digest_algorithm.lower()) if self._covered(**request) else None
        if layout is None or len(data_digest) != layout.digest_size:
            return await super().async_sign(data_digest, digest_algorithm, dry_run, **request)
        attributes = layout.signed_attributes(data_digest)
        signature = await self.async_sign_raw(der(SET, attributes), layout.digest_algorithm, dry_run)
        return cms.ContentInfo.load(layout.frame(attributes, signature))
