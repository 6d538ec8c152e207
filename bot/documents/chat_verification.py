"""A verdict as the chat says it: the template and its values, shared by the code typed in the chat (an action)
and the photo or PDF sent in the chat (the gateway), worded like the /verificar page."""

from __future__ import annotations

from datetime import tzinfo

from bot.documents.templates import Plantillas
from bot.documents.verification import VerificationResult

WITH_DOCUMENT = "verificar_resultado"  # templates in dialogs/textos/verificar_documento.yml
WITHOUT_DOCUMENT = "verificar_resultado_sin_documento"


def verdict_texto(result: VerificationResult, plantillas: Plantillas, zone: tzinfo) -> tuple[str, dict[str, str]]:
    """The chat template's name and values for ``result``.

    The verdict's title and detail come from ``verificacion.yml`` (as on the page); with a document, its key
    data and the fields its template lists for verifiers (the récord's result, the plate...), and why a revoked
    document was revoked; without one, the reason.
    """
    wording = plantillas.text("veredictos", result.verdict.value)
    facts = result.document
    if facts is None:
        return WITHOUT_DOCUMENT, {
            "titulo": wording["titulo"],
            "detalle": wording["detalle"],
            "motivo": plantillas.text("motivos", result.reason),
        }
    fields = "".join(f"\n• {label}: {value}" for label, value in facts.fields)
    if facts.revocation_reason:
        fields += "\n• " + plantillas.text("chat", "revocacion").format(motivo=facts.revocation_reason)
    return WITH_DOCUMENT, {
        "titulo": wording["titulo"],
        "detalle": wording["detalle"],
        "documento": facts.title,
        "institucion": facts.institution,
        "titular": f"{facts.holder_name} ({facts.holder_cedula_masked})",
        "emitido": facts.issued_at.astimezone(zone).strftime("%d/%m/%Y"),
        "vence": facts.expires_at.astimezone(zone).strftime("%d/%m/%Y"),
        "campos": fields,
    }
