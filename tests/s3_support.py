"""An S3-compatible server for tests: moto's server mode on 127.0.0.1 with a free port, reached over real HTTP
by the same boto3 client production uses. Each test gets a bucket of its own, and credentials in the environment
as production reads them (boto3's chain), never the machine's ``~/.aws``."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
from moto.server import ThreadedMotoServer

from bot.documents.settings import S3Location

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REGION = "us-east-1"


class S3Server:
    """A moto server in a thread of the test process; ``stop()`` takes it down (a store going away)."""

    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        self._running = True

    def stop(self) -> None:
        if self._running:
            self._server.stop()
            self._running = False

    def client(self) -> S3Client:
        """A client of its own, to look at the bucket the way an operator would (not the product's)."""
        return boto3.session.Session().client("s3", endpoint_url=self.endpoint_url, region_name=REGION)

    def new_bucket(self) -> str:
        name = f"chasqui-{secrets.token_hex(6)}"
        self.client().create_bucket(Bucket=name)
        return name


def closed_port_url() -> str:
    """The URL of a port nobody listens on (taken from the OS, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials and region where boto3 looks for them; the developer's own AWS files are out of reach."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "prueba",
        "AWS_SECRET_ACCESS_KEY": "prueba-secreto",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "sin-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "sin-credenciales"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_location(s3_server: S3Server, aws_environment: None) -> S3Location:
    """A fresh bucket on the shared server, under a prefix as a shared production bucket would use."""
    return S3Location(
        bucket=s3_server.new_bucket(), prefix="chasqui/", endpoint_url=s3_server.endpoint_url, max_attempts=2
    )
