"""Fixtures of the documents tests: one dev CA per run, the templates, and a wired subsystem on SQLite."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.documents.render import Fonts
from bot.documents.runtime import Documents, build_documents
from bot.documents.service import DocumentRenderer
from bot.documents.settings import DocumentSettings
from bot.documents.signing import Signer, open_signer
from bot.documents.store import MemoryDocumentStore
from bot.documents.templates import Plantillas, load_plantillas
from bot.storage.db import create_engine, migrate_async, session_factory

PROJECT_DIR = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = PROJECT_DIR / "data" / "plantillas"
BASE_URL = "https://chasqui.prueba.ec"


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One var/ per test run: the dev CA and the font cache are made once."""
    return tmp_path_factory.mktemp("documentos-var")


def make_settings(var_dir: Path, shared: Path, **overrides: Any) -> DocumentSettings:
    settings = DocumentSettings(
        var_dir=var_dir,
        templates_dir=TEMPLATES_DIR,
        public_base_url=BASE_URL,
        link_secret="s" * 40,
        holder_key="h" * 40,
        font_cache_dir=shared / "fuentes",
    )
    return dataclasses.replace(settings, **overrides)


@pytest.fixture(scope="session")
def signer(shared_dir: Path) -> Signer:
    return open_signer(make_settings(shared_dir, shared_dir))


@pytest.fixture(scope="session")
def plantillas() -> Plantillas:
    return load_plantillas(TEMPLATES_DIR)


@pytest.fixture(scope="session")
def renderer(plantillas: Plantillas, signer: Signer, shared_dir: Path) -> DocumentRenderer:
    fonts = Fonts.find(DocumentSettings.font_dir, cache_dir=shared_dir / "fuentes")
    return DocumentRenderer(plantillas=plantillas, signer=signer, fonts=fonts, public_base_url=BASE_URL, sandbox=True)


@pytest.fixture
def doc_settings(tmp_path: Path, shared_dir: Path) -> DocumentSettings:
    return make_settings(tmp_path / "var", shared_dir)


@pytest.fixture
async def sqlite_sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    await migrate_async(url)
    engine = create_engine(url)
    yield session_factory(engine)
    await engine.dispose()


class Clock:
    """A settable clock: tests move time forward instead of sleeping."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def documents(
    doc_settings: DocumentSettings, sqlite_sessions: async_sessionmaker[AsyncSession], signer: Signer, clock: Clock
) -> Documents:
    """The wired subsystem on SQLite, with an in-memory store and a settable clock."""
    return build_documents(
        doc_settings, sessions=sqlite_sessions, store=MemoryDocumentStore(), signer=signer, clock=clock
    )


@pytest.fixture(scope="session")
def nss_db(shared_dir: Path, signer: Signer) -> Iterator[Path]:
    """An NSS database trusting the dev CA, for poppler's `pdfsig`."""
    for tool in ("pdfsig", "certutil"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: apt-get install -y poppler-utils libnss3-tools")
    directory = shared_dir / "nss"
    directory.mkdir()
    ca = shared_dir / "keys" / "dev" / "ca.pem"
    subprocess.run(["certutil", "-N", "-d", f"sql:{directory}", "--empty-password"], check=True)
    subprocess.run(
        ["certutil", "-A", "-d", f"sql:{directory}", "-n", "chasqui-dev", "-t", "CT,C,C", "-i", str(ca)], check=True
    )
    yield directory


def pdfsig(nss: Path, pdf: Path) -> str:
    """Poppler's report; it exits 0 even on a digest mismatch, so callers read the text."""
    done = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(pdf)], capture_output=True, text=True, check=False)
    return done.stdout + done.stderr
