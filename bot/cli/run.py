"""`chasqui run`: migrate, train if needed, start every process and print the web chat's address."""

from __future__ import annotations

import signal
import sys
import time
from types import FrameType

from bot.cli.model import TrainingFailed, ensure_model
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
    try:
        model = ensure_model(settings)
    except TrainingFailed as exc:
        print(f"No se pudo entrenar el modelo: {exc}", file=sys.stderr)
        return 1
    stack = Stack(settings)

    def _stop(signum: int, _: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        print("Preparando la base de datos…", flush=True)
        stack.prepare()  # in a child: this process never imports the application (see `chasqui bench-memoria`)
        print("Iniciando los registros de prueba, el servidor de acciones, Rasa y el gateway…", flush=True)
        stack.start_registros()
        stack.start_actions()
        stack.start_rasa(model)
        stack.start_gateway()
        stack.start_worker()
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
        while True:
            stack.check_alive()
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nDeteniendo Chasqui…", flush=True)
        return 0
    except StackError as exc:
        print(f"Chasqui no pudo iniciar: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
