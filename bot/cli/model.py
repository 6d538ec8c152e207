"""The trained Rasa model, cached outside the clone by the hash of everything that shapes it."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from bot.settings import Settings, rasa_lock_hash

TRAINING_DIRS = ("intents", "dialogs/dominio", "dialogs/reglas")
# The quick model: the same pipeline, data and policies with a smaller DIET (one transformer layer of 128,
# 40 epochs: about 4 minutes of `rasa train` on 2 cores instead of 16, for 0.009 of held-out accuracy and
# about 1 % of the corpus's turns; README, «NLU quality»). `chasqui run` serves with it while the full model
# of the same inputs trains in the background, then Rasa loads the full one.
QUICK_DIET: dict[str, int] = {"number_of_transformer_layers": 1, "transformer_size": 128, "epochs": 40}


class TrainingFailed(Exception):
    """`rasa train` did not produce a model."""


def training_inputs(project_dir: Path) -> list[Path]:
    """Every file whose change must retrain the model."""
    files = [project_dir / "config.yml"]
    for folder in TRAINING_DIRS:
        files.extend(sorted(p for p in (project_dir / folder).rglob("*") if p.is_file()))
    return files


def model_hash(project_dir: Path, *, quick: bool = False) -> str:
    digest = hashlib.sha256(rasa_lock_hash(project_dir).encode())
    for path in training_inputs(project_dir):
        digest.update(str(path.relative_to(project_dir)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    if quick:
        digest.update(b"quick\0" + repr(sorted(QUICK_DIET.items())).encode())
    return digest.hexdigest()[:16]


def quick_config(project_dir: Path) -> str:
    """config.yml with the quick model's DIET (everything else as it is)."""
    config = yaml.safe_load((project_dir / "config.yml").read_text(encoding="utf-8"))
    diet = [c for c in config.get("pipeline", []) if isinstance(c, dict) and c.get("name") == "DIETClassifier"]
    if len(diet) != 1:
        raise TrainingFailed("config.yml must have one DIETClassifier for the quick model")
    diet[0].update(QUICK_DIET)
    return yaml.safe_dump(config, allow_unicode=True, sort_keys=False)


def model_path(settings: Settings, *, quick: bool = False) -> Path:
    """Where the model of the current inputs is cached (it may not be trained yet)."""
    return settings.cache_dir / "models" / f"{model_hash(settings.project_dir, quick=quick)}.tar.gz"


def rasa_env() -> dict[str, str]:
    """Environment for any Rasa command: no telemetry, quiet TensorFlow and SQLAlchemy."""
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONWARNINGS="ignore",
        LOG_LEVEL_LIBRARIES="ERROR",
    )
    return env


def training_command(settings: Settings, *, out: Path, name: str, config: str = "config.yml") -> list[str]:
    return [
        str(settings.effective_rasa_bin),
        "train",
        "--config",
        config,
        "--domain",
        "dialogs/dominio",
        "--data",
        "intents",
        "dialogs/reglas",
        "--out",
        str(out),
        "--fixed-model-name",
        name,
    ]


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_model(settings: Settings, *, echo: bool = True, quick: bool = False) -> Path:
    """Return the cached model for the current inputs, training it first when there is none.

    Args:
        quick: the quick model (`QUICK_DIET`) instead of the full one.
    """
    if settings.model_path:
        return Path(settings.model_path)
    target = model_path(settings, quick=quick)
    name = target.name.removesuffix(".tar.gz")
    cache = target.parent
    if target.exists():
        if echo:
            print(f"Modelo de Rasa al día (caché {target.name}).", flush=True)
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with _exclusive(cache / ".train.lock"):  # one training at a time: they share Rasa's cache (.rasa/)
        if target.exists():
            return target
        if echo:
            what = "el modelo rápido de Rasa (unos 4 minutos)" if quick else "el modelo de Rasa (unos minutos)"
            print(f"Entrenando {what}: intents, dialogs o config cambiaron…", flush=True)
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            config = "config.yml"
            if quick:
                config = str(Path(tmp) / "config.rapido.yml")
                Path(config).write_text(quick_config(settings.project_dir), encoding="utf-8")
            result = subprocess.run(
                training_command(settings, out=Path(tmp), name=name, config=config),
                cwd=settings.project_dir,
                env=rasa_env(),
                stdout=None if echo else subprocess.DEVNULL,
                stderr=None if echo else subprocess.PIPE,
                check=False,
            )
            produced = Path(tmp) / f"{name}.tar.gz"
            if result.returncode != 0 or not produced.exists():
                detail = (result.stderr or b"").decode(errors="replace")[-2000:] if not echo else ""
                raise TrainingFailed(f"rasa train exited with {result.returncode}. {detail}")
            shutil.move(str(produced), target)
    if echo:
        print(f"Modelo entrenado y guardado en {target}.", flush=True)
    return target


class FullModelTraining:
    """The full model, trained by a background `chasqui train` (at the lowest CPU priority, so that serving
    goes first) while Rasa serves with the quick model; `load` then hands it to Rasa (``PUT /model``)."""

    def __init__(self, settings: Settings, *, log_dir: Path) -> None:
        self.target = model_path(settings)
        self.log_path = log_dir / "entrenamiento.log"
        log_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "bot.cli.main", "train"]
        if shutil.which("nice"):
            command = ["nice", "-n", "19", *command]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=settings.project_dir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def finished(self) -> bool | None:
        """None while training; then True when the full model is in the cache."""
        if self.process.poll() is None:
            return None
        return self.process.returncode == 0 and self.target.exists()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            self.process.wait()


def load_into_rasa(rasa_url: str, token: str, model: Path, *, timeout: float = 600.0) -> None:
    """Ask the running Rasa to load ``model`` (it keeps answering with the old one until the new one is loaded).

    Raises:
        OSError: Rasa did not accept it (urllib's errors are OSErrors).
    """
    import json
    import urllib.parse
    import urllib.request

    if urllib.parse.urlsplit(rasa_url).scheme not in ("http", "https"):
        raise OSError(f"not an HTTP address: {rasa_url}")
    query = urllib.parse.urlencode({"token": token}) if token else ""
    request = urllib.request.Request(  # noqa: S310 (HTTP only, checked above)
        f"{rasa_url.rstrip('/')}/model" + (f"?{query}" if query else ""),
        data=json.dumps({"model_file": str(model)}).encode(),
        headers={"Content-Type": "application/json"},
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (HTTP only, checked above)
        if response.status not in (200, 204):
            raise OSError(f"Rasa answered {response.status}")


def main_train(settings: Settings) -> int:
    try:
        ensure_model(settings)
    except TrainingFailed as exc:
        print(f"No se pudo entrenar el modelo: {exc}", file=sys.stderr)
        return 1
    return 0
