"""Copies of a citizen's data, kept 30 minutes behind an unguessable token: on disk or on object storage.

The store follows the documents' (``DOCUMENT_STORE``): every host must be able to hand out a copy that another
host wrote. Every method blocks; async code calls them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bot.documents.settings import s3_location_from
from bot.settings import Settings

if TYPE_CHECKING:  # boto3 (about 10 MB) is loaded only when object storage is configured
    from bot.documents.object_store import S3Bucket

MINUTES = 30
# A token is ``secrets.token_urlsafe(24)`` (32 characters); anything else never reaches a disk or a bucket.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


class ExportStore(Protocol):
    """Where copies of data wait for their download."""

    def put(self, data: dict[str, Any]) -> str:
        """Keep ``data`` as JSON and return the token of its link."""
        ...

    def get(self, token: str) -> bytes | None:
        """The copy's JSON, or ``None`` if the token is malformed, unknown or its copy expired."""
        ...

    def purge(self) -> int:
        """Remove the copies whose link expired (the worker runs it), so none outlives its link; return how many."""
        ...


def _now() -> datetime:
    return datetime.now(UTC)


def _encode(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


class FilesystemExportStore:
    """Copies as ``<folder>/<token>.json``, readable by the owner only."""

    def __init__(self, folder: Path, *, minutes: int = MINUTES) -> None:
        self._folder = folder
        self._minutes = minutes

    def put(self, data: dict[str, Any]) -> str:
        self._folder.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(24)
        path = self._folder / f"{token}.json"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # the owner only, whatever the umask
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(_encode(data))
        return token

    def purge(self) -> int:
        if not self._folder.exists():
            return 0
        removed = 0
        for path in self._folder.glob("*.json"):
            if time.time() - path.stat().st_mtime > self._minutes * 60:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def get(self, token: str) -> bytes | None:
        if not _TOKEN.fullmatch(token):
            return None
        path = self._folder / f"{token}.json"
        if not path.exists():
            return None
        if time.time() - path.stat().st_mtime > self._minutes * 60:
            path.unlink(missing_ok=True)
            return None
        return path.read_bytes()


class S3ExportStore:
    """Copies as objects ``<prefix>exportes/<token>.json`` in the documents' bucket.

    The age of a copy is the object's ``LastModified``. A lifecycle rule on ``exportes/`` (expire after one day)
    is a good second net, but the purge here does not depend on one.
    """

    FOLDER = "exportes"

    def __init__(self, bucket: S3Bucket, *, minutes: int = MINUTES, clock: Callable[[], datetime] = _now) -> None:
        self._bucket = bucket
        self._minutes = minutes
        self._clock = clock

    def _expired(self, written: datetime) -> bool:
        return (self._clock() - written).total_seconds() > self._minutes * 60

    def put(self, data: dict[str, Any]) -> str:
        token = secrets.token_urlsafe(24)
        self._bucket.put(f"{self.FOLDER}/{token}.json", _encode(data), media_type="application/json")
        return token

    def get(self, token: str) -> bytes | None:
        if not _TOKEN.fullmatch(token):
            return None
        key = f"{self.FOLDER}/{token}.json"
        found = self._bucket.get(key)
        if found is None:
            return None
        data, written = found
        if self._expired(written):
            self._bucket.delete(key)
            return None
        return data

    def purge(self) -> int:
        expired = [key for key, written in self._bucket.listing(f"{self.FOLDER}/") if self._expired(written)]
        for key in expired:
            self._bucket.delete(key)
        return len(expired)


def build_export_store(settings: Settings) -> ExportStore:
    """The store the settings choose: the documents' bucket with ``DOCUMENT_STORE=s3``, else ``var/exportes``.

    Raises:
        ConfigurationError: ``DOCUMENT_STORE=s3`` without a bucket.
    """
    location = s3_location_from(settings)
    if location is None:
        return FilesystemExportStore(settings.var_dir / "exportes")
    from bot.documents.object_store import S3Bucket

    return S3ExportStore(S3Bucket(location))
