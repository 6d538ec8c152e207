"""Files on S3-compatible object storage (AWS S3, MinIO, Ceph, Garage…): the bucket client and the document store.

boto3 is synchronous; like the filesystem store, every call here blocks, and the async code calls it through
``asyncio.to_thread`` (one boto3 client is thread-safe and shared by the threads). Credentials are never
read here: boto3's own chain finds them (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile, the
instance or pod role).

Every failure of the service reaches callers as `StoreUnavailable` with a message that names the bucket and the
endpoint; a missing object is `DocumentNotFound` (or ``None`` where absence is an answer).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from bot.documents.errors import DocumentNotFound, StoreUnavailable
from bot.documents.settings import S3Location
from bot.documents.store import check_name

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MEDIA_TYPES = {"pdf": "application/pdf", "png": "image/png", "json": "application/json"}
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


class S3Bucket:
    """The few object operations Chasqui needs, on one bucket under one prefix, with errors mapped once.

    Args:
        location: the bucket and how to reach it.
        client: an S3 client (tests may pass one); built from ``location`` by default.
    """

    def __init__(self, location: S3Location, *, client: S3Client | None = None) -> None:
        self.location = location
        self._client = client or _client(location)

    def check(self) -> None:
        """Confirm at start-up that the bucket exists and the credentials may use it.

        Raises:
            StoreUnavailable: unreachable, no such bucket, no credentials or access refused.
        """
        with self._errors("check the bucket"):
            self._client.head_bucket(Bucket=self.location.bucket)

    def put(self, key: str, data: bytes, *, media_type: str) -> None:
        extra: dict[str, Any] = {}
        if self.location.server_side_encryption:
            extra["ServerSideEncryption"] = self.location.server_side_encryption
        with self._errors("store", key):
            self._client.put_object(
                Bucket=self.location.bucket, Key=self._key(key), Body=data, ContentType=media_type, **extra
            )

    def get(self, key: str) -> tuple[bytes, datetime] | None:
        """The object's bytes and when it was written, or ``None`` if there is none."""
        with self._errors("read", key):
            try:
                answer = self._client.get_object(Bucket=self.location.bucket, Key=self._key(key))
            except ClientError as exc:
                if _code(exc) in _MISSING:
                    return None
                raise
            with answer["Body"] as body:
                return body.read(), answer["LastModified"]

    def exists(self, key: str) -> bool:
        with self._errors("look up", key):
            try:
                self._client.head_object(Bucket=self.location.bucket, Key=self._key(key))
            except ClientError as exc:
                if _code(exc) in _MISSING:
                    return False
                raise
            return True

    def delete(self, key: str) -> None:
        """Remove an object for good (S3 answers the same whether it existed or not)."""
        with self._errors("delete", key):
            self._client.delete_object(Bucket=self.location.bucket, Key=self._key(key))

    def listing(self, folder: str) -> Iterator[tuple[str, datetime]]:
        """Every object under ``folder`` (relative to the prefix): its key, relative too, and when it was written."""
        start = self._key(folder)
        with self._errors("list", folder):
            pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.location.bucket, Prefix=start)
            for page in pages:
                for item in page.get("Contents", []):
                    yield item["Key"][len(self.location.prefix) :], item["LastModified"]

    def _key(self, key: str) -> str:
        return self.location.prefix + key

    def _errors(self, doing: str, key: str = "") -> AbstractContextManager[None]:
        return _errors(self.location, doing, key)


@contextmanager
def _errors(location: S3Location, doing: str, key: str = "") -> Iterator[None]:
    """Turn boto3's exceptions into `StoreUnavailable`, naming the bucket and endpoint but no object key.

    Keys hold document ids and export tokens (a token alone opens a citizen's copy of data), and botocore puts
    the full URL in its messages; so the original exception is not chained (``from None``), only its kind.
    """
    where = location.describe()
    what = f"cannot {doing}" + (f" in {key.split('/', 1)[0]}/" if "/" in key else "")
    try:
        yield
    except NoCredentialsError:
        raise StoreUnavailable(
            f"object storage {where}: {what}: no credentials "
            "(set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile or a role)"
        ) from None
    except ClientError as exc:
        code = _code(exc)
        hint = _HINTS.get(code, f"the service answered {code}")
        raise StoreUnavailable(f"object storage {where}: {what}: {hint}") from None
    except BotoCoreError as exc:
        raise StoreUnavailable(f"object storage {where}: {what}: unreachable ({type(exc).__name__})") from None


_HINTS = {
    "NoSuchBucket": "the bucket does not exist",
    "404": "the bucket does not exist",
    "AccessDenied": "access refused: check the credentials and the bucket policy",
    "403": "access refused: check the credentials and the bucket policy",
    "InvalidAccessKeyId": "unknown access key",
    "SignatureDoesNotMatch": "wrong secret key",
}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _client(location: S3Location) -> S3Client:
    config = Config(
        connect_timeout=location.connect_timeout,
        read_timeout=location.read_timeout,
        retries={"max_attempts": location.max_attempts, "mode": "standard"},
        max_pool_connections=32,  # asyncio.to_thread's default pool has up to 32 threads
        # S3-compatible servers are reached by path (http://host:9000/bucket/key); AWS by virtual host.
        s3={"addressing_style": "path" if location.endpoint_url else "auto"},
    )
    session = boto3.session.Session()  # sessions are not thread-safe; the client made from one is
    return session.client(
        "s3", endpoint_url=location.endpoint_url or None, region_name=location.region or None, config=config
    )


class S3DocumentStore:
    """Documents as objects ``<prefix>documentos/<first two characters of the id>/<id>/<filename>``.

    The same layout as the filesystem store, so files can be copied across with any S3 tool
    (``aws s3 sync var/documentos s3://bucket/documentos``).

    Args:
        bucket: the bucket and prefix, shared with the data copies (`bot.privacy.exports.S3ExportStore`).
    """

    FOLDER = "documentos"

    def __init__(self, bucket: S3Bucket) -> None:
        self.bucket = bucket

    def _key(self, document_id: str, filename: str) -> str:
        check_name(document_id, filename)
        return f"{self.FOLDER}/{document_id[:2]}/{document_id}/{filename}"

    def put(self, document_id: str, filename: str, data: bytes) -> None:
        key = self._key(document_id, filename)  # S3 writes are atomic: a reader never sees half an object
        self.bucket.put(key, data, media_type=MEDIA_TYPES[filename.rsplit(".", 1)[1]])

    def get(self, document_id: str, filename: str) -> bytes:
        found = self.bucket.get(self._key(document_id, filename))
        if found is None:
            raise DocumentNotFound(f"{document_id}/{filename}")
        return found[0]

    def exists(self, document_id: str, filename: str) -> bool:
        return self.bucket.exists(self._key(document_id, filename))

    def delete(self, document_id: str, filename: str) -> None:
        self.bucket.delete(self._key(document_id, filename))
