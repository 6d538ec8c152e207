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

from bot.settings import Settings, rasa_lock_hash

TRAINING_DIRS = ("intents", "dialogs/dominio", "dialogs/reglas")


class TrainingFailed(Exception):
    """`rasa train` did not produce a model."""


def training_inputs(project_dir: Path) -> list[Path]:
    """Every file whose change must retrain the model."""
    files = [project_dir / "config.yml"]
    for folder in TRAINING_DIRS:
        files.extend(sorted(p for p in (project_dir / folder).rglob("*") if p.is_file()))
    return files


def model_hash(project_dir: Path) -> str:
    digest = hashlib.sha256(rasa_lock_hash(project_dir).encode())
    for path in training_inputs(project_dir):
        digest.update(str(path.relative_to(project_dir)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


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


def training_command(settings: Settings, *, out: Path, name: str) -> list[str]:
    return [
        str(settings.effective_rasa_bin),
        "train",
        "--config",
        "config.yml",
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


def ensure_model(settings: Settings, *, echo: bool = True) -> Path:
    """Return the cached model for the current inputs, training it first when there is none."""
    if settings.model_path:
        return Path(settings.model_path)
    name = model_hash(settings.project_dir)
    cache = settings.cache_dir / "models"
    target = cache / f"{name}.tar.gz"
    if target.exists():
        if echo:
            print(f"Modelo de Rasa al día (caché {target.name}).", flush=True)
        return target
    with _exclusive(cache / ".train.lock"):
        if target.exists():
            return target
        if echo:
            print(
                "Entrenando el modelo de Rasa: intents, dialogs o config cambiaron (unos minutos)…",
                flush=True,
            )
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            result = subprocess.run(
                training_command(settings, out=Path(tmp), name=name),
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


def main_train(settings: Settings) -> int:
    try:
        ensure_model(settings)
    except TrainingFailed as exc:
        print(f"No se pudo entrenar el modelo: {exc}", file=sys.stderr)
        return 1
    return 0
