"""`chasqui run`: migrate, train if needed, start every process and print the web chat's address."""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from bot.cli.model import FullModelTraining, TrainingFailed, ensure_model, load_into_rasa, model_path
from bot.cli.stack import Stack, StackError
from bot.settings import Settings


def main_run(settings: Settings) -> int:
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    if not settings.effective_rasa_bin.exists():
        print(
            f"No encuentro Rasa en {settings.effective_rasa_bin}. Use `make run`, que crea su entorno.",
            file=sys.stderr,
        )
        return 2
    # First start with these data: serve on the quick model in minutes, the full one follows in the background.
    quick = settings.quick_model_first and not settings.model_path and not model_path(settings).exists()
    try:
        if quick:
            print(
                "Aún no hay un modelo completo para estos datos: empiezo con el modelo rápido y entreno el completo"
                " después, sin detener el servicio.",
                flush=True,
            )
        model = ensure_model(settings, quick=quick)
    except TrainingFailed as exc:
        print(f"No se pudo entrenar el modelo: {exc}", file=sys.stderr)
        return 1
    stack = Stack(settings)
    training: FullModelTraining | None = None

    def _stop(signum: int, _: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        stack.check_replicas()
        print("Preparando la base de datos…", flush=True)
        stack.prepare()  # in a child: this process never imports the application (see `chasqui bench-memoria`)
        print("Iniciando los registros de prueba, el servidor de acciones, Rasa y el gateway…", flush=True)
        if stack.start_all(model) is not None:
            print(
                f"{settings.replicas} réplicas de cada proceso detrás de HAProxy ({settings.var_dir / 'haproxy.cfg'}).",
                flush=True,
            )
        print(f"Rasa carga su modelo (cerca de un minuto). Registros en {stack.log_dir}/", flush=True)
        stack.wait_ready()
        url = settings.effective_public_base_url
        print(
            f"\nChasqui está listo.\n  Chat web:   {url}/\n  Terminal:   chasqui chat  (en otra terminal)\n"
            f"  Verificar documentos: {url}/verificar\n"
            + (
                f"  Registros de prueba: {settings.effective_registros_url}/docs\n"
                if settings.registros_sandbox
                else ""
            )
            + "Pulse Ctrl+C para detener.\n",
            flush=True,
        )
        if quick:
            training = FullModelTraining(settings, log_dir=stack.log_dir)
            print(f"Entrenando el modelo completo en segundo plano (unos 16 minutos; {training.log_path}).", flush=True)
        while True:
            for name in stack.check_alive(restart_replicas=True):
                print(f"La réplica {name} terminó; la inicio de nuevo.", flush=True)
            if training is not None and (done := training.finished()) is not None:
                if done:
                    for rasa_url in stack.rasa_urls():
                        _upgrade(rasa_url, stack.rasa_token, training.target)
                else:
                    print(f"El modelo completo no se pudo entrenar; sigo con el rápido ({training.log_path}).")
                training = None
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nDeteniendo Chasqui…", flush=True)
        return 0
    except StackError as exc:
        print(f"Chasqui no pudo iniciar: {exc}", file=sys.stderr)
        return 1
    finally:
        if training is not None:
            training.stop()
        stack.stop()


def _upgrade(rasa_url: str, token: str, model: Path) -> None:
    """Rasa loads the full model in a thread of its own (about a minute; it answers with the quick one meanwhile)."""

    def load() -> None:
        try:
            load_into_rasa(rasa_url, token, model)
        except OSError as exc:
            print(f"Rasa no cargó el modelo completo ({exc}); sigue con el rápido hasta el próximo inicio.", flush=True)
            return
        print(f"Rasa ya usa el modelo completo ({model.name}).", flush=True)

    print("El modelo completo está entrenado; Rasa lo carga ahora…", flush=True)
    threading.Thread(target=load, name="cargar-modelo", daemon=True).start()
