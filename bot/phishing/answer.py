"""The verdict as the citizen reads it: one message put together from `dialogs/textos/verificar_mensaje.yml`."""

from __future__ import annotations

from bot.phishing.links import LinkCheck, LinkReason, LinkVerdict
from bot.phishing.senders import OwnSenders, SenderCheck, SenderKind
from bot.phishing.verdict import MessageCheck, Risk
from bot.texts import Texto, Textos

MAX_ITEMS = 5  # links and senders named one by one; a longer list is cut (WhatsApp reads short messages best)

# Which reason a look-alike's line explains, when it has several.
_FIRST_REASON = (
    LinkReason.LETRAS_EXTRANAS,
    LinkReason.DESTINO_OCULTO,
    LinkReason.IMITA_SUFIJO,
    LinkReason.USA_NOMBRE,
    LinkReason.PARECIDO,
    LinkReason.DIRECCION_IP,
    LinkReason.ACORTADOR,
)


def answer_key(check: MessageCheck) -> str:
    """The answer's name (for analytics and tests): ``verificar_mensaje_<risk>``."""
    return f"verificar_mensaje_{check.risk.value}"


def word_check(check: MessageCheck, textos: Textos, own: OwnSenders) -> Texto:
    """One message: what was checked, line by line; the warning signs; what to do.

    Every sentence comes from a template; this only chooses them and joins them.
    """
    risk = check.risk
    if risk is Risk.NADA:
        return Texto(key=answer_key(check), text=textos.render("verificar_mensaje_sin_nada").text)
    lines = [textos.render("verificar_mensaje_intro").text]
    lines += [_link_line(link, textos) for link in check.links[:MAX_ITEMS]]
    lines += [_sender_line(sender, textos, own) for sender in check.senders[:MAX_ITEMS]]
    sections = ["\n".join(lines)]
    if any(not sender.propio for sender in check.senders):
        channels = _own_channels(own, textos)
        if channels:
            sections.append(channels)
    if check.signals:
        signs = [textos.render("verificar_senales_titulo").text]
        signs += [textos.render(f"verificar_senal_{signal.value}").text for signal in check.signals]
        sections.append("\n".join(signs))
    sections.append(textos.render(f"verificar_que_hacer_{risk.value}").text)
    return Texto(key=answer_key(check), text="\n\n".join(sections))


def _link_line(link: LinkCheck, textos: Textos) -> str:
    if link.verdict is LinkVerdict.OFICIAL:
        return textos.render("verificar_enlace_oficial", sitio=link.host, institucion=link.institucion or "").text
    reason = next((r for r in _FIRST_REASON if r in link.reasons), None)
    if link.verdict is LinkVerdict.IMITACION:
        head = (
            textos.render(
                "verificar_enlace_imita_institucion",
                sitio=link.host,
                institucion=link.institucion,
                dominio_real=link.dominio_real,
            )
            if link.institucion and link.dominio_real
            else textos.render("verificar_enlace_imita_estado", sitio=link.host)
        )
    else:
        head = textos.render("verificar_enlace_ajeno", sitio=link.host)
    if reason is None:
        return head.text
    return f"{head.text} {textos.render(f'verificar_motivo_{reason.value}').text}"


def _sender_line(sender: SenderCheck, textos: Textos, own: OwnSenders) -> str:
    if sender.kind is SenderKind.TELEGRAM:
        key = "verificar_usuario_propio" if sender.propio else "verificar_usuario_ajeno"
        return textos.render(key, usuario=sender.shown).text
    if sender.propio:
        return textos.render("verificar_numero_propio", numero=own.whatsapp_shown or sender.shown).text
    if sender.pais:
        return textos.render(
            "verificar_numero_extranjero", numero=sender.shown, pais=sender.pais, prefijo=sender.prefijo
        ).text
    return textos.render("verificar_numero_ajeno", numero=sender.shown).text


def _own_channels(own: OwnSenders, textos: Textos) -> str | None:
    number, username = own.whatsapp_shown, own.telegram
    if number and username:
        return textos.render("verificar_canales_ambos", numero=number, usuario=f"@{username}").text
    if number:
        return textos.render("verificar_canales_whatsapp", numero=number).text
    if username:
        return textos.render("verificar_canales_telegram", usuario=f"@{username}").text
    return textos.render("verificar_canales_sin_numero").text
