"""Where the signed files live: the `DocumentStore` protocol, on the filesystem and in memory.

The same protocol on S3-compatible object storage is `bot.documents.object_store.S3DocumentStore`. Every method
blocks; async code calls them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Protocol

from bot.documents.codes import is_document_id
from bot.documents.errors import DocumentNotFound

_FILENAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,100}\.(pdf|png)$")


def check_name(document_id: str, filename: str) -> None:
    """Refuse ids and file names that could step outside the store (``..``, slashes, odd characters).

    Raises:
        DocumentNotFound: the id or the name cannot be one the issuer made.
    """
    if not is_document_id(document_id) or not _FILENAME.fullmatch(filename) or ".." in filename:
        raise DocumentNotFound(f"{document_id}/{filename}")


class DocumentStore(Protocol):
    """Keeps the bytes of each document's files, addressed by document id and file name."""

    def put(self, document_id: str, filename: str, data: bytes) -> None:
        """Store ``data``; a file is written once and never changed.

        Raises:
            StoreUnavailable: object storage could not be reached or refused the write.
        """
        ...

    def get(self, document_id: str, filename: str) -> bytes:
        """Return the stored bytes.

        Raises:
            DocumentNotFound: nothing stored under that id and name.
            StoreUnavailable: object storage could not be reached.
        """
        ...

    def exists(self, document_id: str, filename: str) -> bool:
        """Whether a file is stored under that id and name (without reading it)."""
        ...

    def delete(self, document_id: str, filename: str) -> None:
        """Remove a file for good (a citizen's deletion request); missing files are fine.

        Raises:
            StoreUnavailable: object storage could not be reached (the file may still be there).
        """
        ...


class FilesystemDocumentStore:
    """Files under ``<root>/<first two characters of the id>/<id>/<filename>``.

    Args:
        root: the store's folder (``<var_dir>/documentos`` by default).
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, document_id: str, filename: str) -> Path:
        check_name(document_id, filename)
        return self.root / document_id[:2] / document_id / filename

    def put(self, document_id: str, filename: str, data: bytes) -> None:
        path = self._path(document_id, filename)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed into place: a reader never sees half a file.
        staging = path.with_name(f".{filename}.{secrets.token_hex(4)}")
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(staging, path)

    def get(self, document_id: str, filename: str) -> bytes:
        path = self._path(document_id, filename)
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise DocumentNotFound(f"{document_id}/{filename}") from exc

    def exists(self, document_id: str, filename: str) -> bool:
        return self._path(document_id, filename).is_file()

    def delete(self, document_id: str, filename: str) -> None:
        self._path(document_id, filename).unlink(missing_ok=True)


class MemoryDocumentStore:
    """A store in a dict, for tests and benchmarks."""

    def __init__(self) -> None:
        self.files: dict[tuple[str, str], bytes] = {}

    def put(self, document_id: str, filename: str, data: bytes) -> None:
        check_name(document_id, filename)
        self.files[(document_id, filename)] = data

    def get(self, document_id: str, filename: str) -> bytes:
        check_name(document_id, filename)
        try:
            return self.files[(document_id, filename)]
        except KeyError as exc:
            raise DocumentNotFound(f"{document_id}/{filename}") from exc

    def exists(self, document_id: str, filename: str) -> bool:
        check_name(document_id, filename)
        return (document_id, filename) in self.files

    def delete(self, document_id: str, filename: str) -> None:
        self.files.pop((document_id, filename), None)
