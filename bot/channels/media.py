"""Downloading a file a citizen sent, in memory and bounded: the size is checked before and while reading."""

from __future__ import annotations

import httpx

from bot.channels.base import MediaTooLarge, MediaUnavailable


async def download(
    http: httpx.AsyncClient, url: str, *, max_bytes: int, auth: httpx.Auth | tuple[str, str] | None = None
) -> bytes:
    """GET ``url`` and return its body, refusing it as soon as it passes ``max_bytes``.

    Redirects are followed (Twilio answers a media URL with a redirect to its storage); httpx drops the
    credentials when a redirect leaves the origin. Neither the URL nor the body is logged: the URL can carry
    a token (Telegram's file URL does) and the body is personal data.

    Raises:
        MediaTooLarge: ``Content-Length`` or the bytes read pass ``max_bytes``.
        MediaUnavailable: a network error or a non-2xx answer.
    """
    try:
        async with http.stream("GET", url, auth=auth, follow_redirects=True) as response:
            if response.status_code // 100 != 2:
                raise MediaUnavailable(f"HTTP {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
                raise MediaTooLarge(f"declared {declared} bytes")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise MediaTooLarge(f"more than {max_bytes} bytes")
            return bytes(body)
    except httpx.HTTPError as exc:
        raise MediaUnavailable(type(exc).__name__) from exc
