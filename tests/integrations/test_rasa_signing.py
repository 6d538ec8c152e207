"""The gateway's signature on every message to Rasa (issue 12: Rasa's REST channel accepted anyone)."""

from __future__ import annotations

from integrations.rasa.signing import MAX_SKEW_SECONDS, sign, verify

BODY = b'{"sender": "web:ana", "message": "hola"}'


def test_a_signed_body_is_accepted_and_anything_else_is_refused() -> None:
    header = sign("s3cret", BODY, now=1_000_000)
    assert verify("s3cret", BODY, header, now=1_000_000 + 10)
    assert not verify("s3cret", BODY.replace(b"ana", b"eva"), header, now=1_000_010)  # another citizen
    assert not verify("otro", BODY, header, now=1_000_010)  # another secret
    assert not verify("s3cret", BODY, header, now=1_000_000 + MAX_SKEW_SECONDS + 1)  # replayed later
    assert not verify("s3cret", BODY, None)
    assert not verify("s3cret", BODY, "t=1,v1")
    assert not verify("", BODY, sign("", BODY))  # no secret configured: nothing is accepted
