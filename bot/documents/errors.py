"""The documents subsystem's exceptions, one small tree.

```
DocumentError
 ├── ConfigurationError   keys, secrets, templates or a signing backend are missing or unusable
 ├── TemplateError        a template is malformed, or the fields given do not match it
 ├── DocumentNotFound     no document, file or share link under that id
 ├── DocumentRevoked      the document was revoked: its files are no longer handed out
 ├── StoreUnavailable     the object storage holding the files cannot be reached, or refuses us
 └── UnreadableInput      a file or text given for verification cannot be read (not a PDF, no QR…)
```
"""

from __future__ import annotations


class DocumentError(Exception):
    """Base of every error raised by `bot.documents`."""


class ConfigurationError(DocumentError):
    """Keys, secrets, templates or the signing backend are missing or unusable."""


class TemplateError(DocumentError):
    """A document template is malformed, or the fields given do not match it."""


class DocumentNotFound(DocumentError):
    """No document, stored file or share link under that identifier."""


class DocumentRevoked(DocumentError):
    """The document was revoked; its files are no longer handed out."""


class StoreUnavailable(DocumentError):
    """The object storage that keeps the files cannot be reached, or refuses the request (bucket, credentials)."""


class UnreadableInput(DocumentError):
    """Input given for verification cannot be read.

    Attributes:
        code: machine-readable reason (``formato_desconocido``, ``sin_qr``, ``sin_lector_qr``, ``vacio``…).
    """

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code
