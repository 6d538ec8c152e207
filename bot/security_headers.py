"""Browser security headers: one policy for every page the gateway serves, added by a small ASGI middleware.

Pages load scripts, styles and images only from the gateway itself: no inline ``<script>``, ``<style>``,
``style=`` or ``on…=`` attribute anywhere (`tests/gateway/test_hardening.py` reads every template for them).
No page may be framed, forms post only to the gateway, and no address leaks in a ``Referer``.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_COMMON_DIRECTIVES = "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

# Pages with a script of their own (the web chat, the staff console): it may call back the gateway.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; {_COMMON_DIRECTIVES}"
)
# Pages without any script (verification, payment, privacy policy).
CONTENT_SECURITY_POLICY_NO_SCRIPT = f"default-src 'none'; style-src 'self'; {_COMMON_DIRECTIVES}"

# Every response: browsers must not guess a type other than the one declared (a JSON body read as HTML).
EVERY_RESPONSE: Mapping[str, str] = {"X-Content-Type-Options": "nosniff"}

HTML_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

HTML_HEADERS_NO_SCRIPT: Mapping[str, str] = {
    **HTML_HEADERS,
    "Content-Security-Policy": CONTENT_SECURITY_POLICY_NO_SCRIPT,
}


class SecurityHeaders:
    """Adds `EVERY_RESPONSE` to every HTTP response and `HTML_HEADERS` to HTML ones.

    A header the route already set is kept: a page may declare a stricter policy of its own. A plain ASGI
    middleware (not ``BaseHTTPMiddleware``), so streamed answers such as the console's events pass untouched.

    Args:
        app: the application to wrap.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                defaults = dict(EVERY_RESPONSE)
                if headers.get("content-type", "").lower().startswith("text/html"):
                    defaults.update(HTML_HEADERS)
                for name, value in defaults.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
