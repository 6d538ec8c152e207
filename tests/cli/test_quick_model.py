"""The quick model of `chasqui run`'s first start: its config, its cache key, its training, and Rasa loading the
full model afterwards. `rasa train` is a small script here (it records the config it was given and writes the
model file); `PUT /model` goes to a local HTTP server."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from bot.cli.model import (
    QUICK_DIET,
    FullModelTraining,
    ensure_model,
    load_into_rasa,
    model_hash,
    model_path,
    quick_config,
)
from bot.settings import Settings

PROJECT = Path(__file__).resolve().parents[2]

FAKE_RASA_TRAIN = """#!{python}
import pathlib, sys
args = sys.argv[1:]
value = lambda flag: args[args.index(flag) + 1]
out, name, config = pathlib.Path(value("--out")), value("--fixed-model-name"), value("--config")
with open({log!r}, "a") as log:
    log.write(pathlib.Path(config).read_text() + "\\n---\\n")
out.mkdir(parents=True, exist_ok=True)
(out / (name + ".tar.gz")).write_bytes(b"model")
"""


@pytest.fixture
def fake_rasa(tmp_path: Path) -> tuple[Path, Path]:
    """An executable standing in for `rasa`, and the file where it writes each config it trained with."""
    log = tmp_path / "configs.log"
    script = tmp_path / "rasa"
    script.write_text(FAKE_RASA_TRAIN.format(python=sys.executable, log=str(log)))
    script.chmod(0o755)
    return script, log


def _diet(config: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in config["pipeline"] if c["name"] == "DIETClassifier")


def test_the_quick_config_changes_only_diets_size_and_epochs() -> None:
    full = yaml.safe_load((PROJECT / "config.yml").read_text(encoding="utf-8"))
    quick = yaml.safe_load(quick_config(PROJECT))

    assert {k: v for k, v in _diet(quick).items() if k not in QUICK_DIET} == {
        k: v for k, v in _diet(full).items() if k not in QUICK_DIET
    }
    assert {k: _diet(quick)[k] for k in QUICK_DIET} == QUICK_DIET
    assert [c for c in quick["pipeline"] if c["name"] != "DIETClassifier"] == [
        c for c in full["pipeline"] if c["name"] != "DIETClassifier"
    ]
    assert quick["policies"] == full["policies"]


def test_the_quick_model_has_its_own_cache_key() -> None:
    assert model_hash(PROJECT, quick=True) != model_hash(PROJECT)
    assert model_hash(PROJECT, quick=True) == model_hash(PROJECT, quick=True)


def test_ensure_model_trains_the_quick_model_with_the_quick_config_once(
    tmp_path: Path, fake_rasa: tuple[Path, Path]
) -> None:
    rasa, log = fake_rasa
    settings = Settings(cache_dir=tmp_path / "cache", rasa_bin=str(rasa))

    quick = ensure_model(settings, quick=True, echo=False)
    again = ensure_model(settings, quick=True, echo=False)

    assert quick == again == model_path(settings, quick=True)
    assert quick.read_bytes() == b"model"
    trained = [yaml.safe_load(text) for text in log.read_text().split("\n---\n") if text.strip()]
    assert len(trained) == 1  # the second call found it in the cache
    assert {k: _diet(trained[0])[k] for k in QUICK_DIET} == QUICK_DIET
    assert not model_path(settings).exists()  # the full model is another file, not trained here


def test_the_full_model_trains_in_the_background_in_the_same_cache(
    tmp_path: Path, fake_rasa: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    rasa, log = fake_rasa
    monkeypatch.setenv("CHASQUI_RASA_BIN", str(rasa))
    monkeypatch.setenv("CHASQUI_CACHE_DIR", str(tmp_path / "cache"))
    settings = Settings(cache_dir=tmp_path / "cache", rasa_bin=str(rasa))

    training = FullModelTraining(settings, log_dir=tmp_path / "logs")
    deadline = time.monotonic() + 60
    while (done := training.finished()) is None and time.monotonic() < deadline:
        time.sleep(0.1)

    assert done is True, training.log_path.read_text()
    assert training.target == model_path(settings) and training.target.exists()
    assert _diet(yaml.safe_load(log.read_text().split("\n---\n")[0])) == _diet(
        yaml.safe_load((PROJECT / "config.yml").read_text(encoding="utf-8"))
    )


class _RasaModelApi(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, str, dict[str, Any]]]] = []
    status = 204

    def do_PUT(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((self.command, self.path, body))
        self.send_response(self.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def rasa_api() -> Iterator[tuple[str, type[_RasaModelApi]]]:
    _RasaModelApi.received = []
    _RasaModelApi.status = 204
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RasaModelApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _RasaModelApi
    server.shutdown()
    server.server_close()


def test_rasa_is_asked_to_load_the_full_model_with_its_token(
    rasa_api: tuple[str, type[_RasaModelApi]], tmp_path: Path
) -> None:
    url, api = rasa_api

    load_into_rasa(url, "ficha", tmp_path / "completo.tar.gz")

    assert api.received == [("PUT", "/model?token=ficha", {"model_file": str(tmp_path / "completo.tar.gz")})]


def test_a_refusal_or_an_address_that_is_not_http_is_an_error(
    rasa_api: tuple[str, type[_RasaModelApi]], tmp_path: Path
) -> None:
    url, api = rasa_api
    api.status = 401

    with pytest.raises(OSError):
        load_into_rasa(url, "otra", tmp_path / "m.tar.gz")
    with pytest.raises(OSError):
        load_into_rasa("file:///etc/passwd", "", tmp_path / "m.tar.gz")
