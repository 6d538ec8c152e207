"""The one exception tree of the registry clients, mapped from HTTP and SOAP answers in `base` and `soap` only.

Exceptions::

    RegistroError            base; carries the institution and a machine-readable code
     ├── Unavailable         down, timeout, connection refused, 5xx, SOAP server fault, breaker open,
     │                       unreadable answer; try later (``retryable`` says whether a retry may help now)
     ├── NotFound            the registry answered: no such person, plate, RUC or record
     └── Rejected            the registry answered and refused: invalid input, credentials, código dactilar
                             that does not match, deceased citizen... (``code`` says which)

Messages never hold personal data: exceptions end up in logs.
"""

from __future__ import annotations


class RegistroError(Exception):
    """Base of every error raised by the registry clients."""

    def __init__(self, message: str = "", *, institution: str = "", code: str = "") -> None:
        super().__init__(message or code or type(self).__name__)
        self.institution = institution
        self.code = code


class Unavailable(RegistroError):
    """The registry cannot answer now: down, slow, failing, or our circuit breaker is open."""

    def __init__(self, message: str = "", *, institution: str = "", code: str = "", retryable: bool = True) -> None:
        super().__init__(message, institution=institution, code=code or "no_disponible")
        self.retryable = retryable


class NotFound(RegistroError):
    """The registry answered that the person, plate, RUC or record does not exist."""

    def __init__(self, message: str = "", *, institution: str = "", code: str = "no_encontrado") -> None:
        super().__init__(message, institution=institution, code=code)


class Rejected(RegistroError):
    """The registry refused the request; ``code`` is machine-readable (e.g. ``dactilar_no_coincide``)."""

    def __init__(self, code: str, message: str = "", *, institution: str = "") -> None:
        super().__init__(message, institution=institution, code=code)
