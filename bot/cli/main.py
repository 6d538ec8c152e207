"""Entry point of the `chasqui` command."""

from __future__ import annotations

import argparse
import os
import sys

from bot.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    os.umask(0o077)  # databases, keys, logs and data copies this process creates: readable by their owner only
    parser = argparse.ArgumentParser(prog="chasqui", description="Chasqui, asistente virtual del Gobierno del Ecuador")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="entrena si hace falta e inicia el gateway, Rasa y las acciones")
    chat = commands.add_parser("chat", help="conversar con el Chasqui en ejecución desde la terminal")
    chat.add_argument("--url", default=None, help="dirección del gateway (por defecto la configurada)")
    commands.add_parser("train", help="entrenar el modelo de Rasa si sus entradas cambiaron")
    commands.add_parser("migrate", help="llevar la base de datos a la última versión del esquema")
    report = commands.add_parser("nlu-report", help="exactitud y macro-F1 por intención en un conjunto apartado")
    report.add_argument("--fraction", type=float, default=0.8, help="fracción para entrenar (el resto se evalúa)")
    verify = commands.add_parser("verificar", help="verificar un documento: archivo PDF, imagen con QR o código")
    verify.add_argument("objetivo", help="ruta de un PDF o imagen, o el código de verificación")
    bench = commands.add_parser("bench-documentos", help="medir emisión y verificación de documentos")
    bench.add_argument("--n", type=int, default=21, help="documentos por medición")
    commands.add_parser("bench-memoria", help="medir la memoria del supervisor de `chasqui run`")
    conversation = commands.add_parser(
        "bench-conversacion", help="medir turnos por la pasarela frente a Rasa directo (concurrencia 1, 4 y 16)"
    )
    conversation.add_argument("--modelo", default=None, help="modelo de Rasa (por defecto el de la caché al día)")
    conversation.add_argument("--postgres", action="store_true", help="en PostgreSQL en vez de SQLite")
    conversation.add_argument(
        "--postgres-url",
        default="postgresql://postgres@127.0.0.1:5432",
        help="servidor PostgreSQL donde crear las bases temporales (con --postgres)",
    )
    conversation.add_argument(
        "--conversaciones", type=int, default=48, help="conversaciones por lado y nivel de concurrencia"
    )
    scale = commands.add_parser("bench-escala", help="medir 1+1 frente a 2+2 réplicas detrás de HAProxy")
    scale.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432", help="servidor PostgreSQL")
    scale.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="servidor Redis (y su base)")
    scale.add_argument("--conversaciones", type=int, default=32, help="conversaciones por nivel de concurrencia")
    admin = commands.add_parser("crear-admin", help="crear la primera cuenta de administrador de la consola")
    admin.add_argument("--usuario", required=True, help="usuario para entrar (minúsculas, números, . _ -)")
    admin.add_argument("--nombre", required=True, help="nombre de la persona")
    admin.add_argument("--password-stdin", action="store_true", help="leer la contraseña de la entrada estándar")
    commands.add_parser("trabajador", help="reintentar en segundo plano los trámites pendientes")
    commands.add_parser("purgar", help="borrar las conversaciones que pasaron su plazo de conservación")
    commands.add_parser("rotar-claves", help="cifrar de nuevo los datos protegidos con la clave más reciente")
    breach = commands.add_parser("brecha", help="qué personas tocó un periodo y una categoría de datos")
    breach.add_argument("--desde", required=True, help="inicio, ISO 8601 (p. ej. 2026-11-01T00:00)")
    breach.add_argument("--hasta", required=True, help="fin, ISO 8601")
    breach.add_argument(
        "--categoria", required=True, choices=["identidad", "tramites", "antecedentes", "documentos", "mensajes"]
    )
    auditoria = commands.add_parser("auditoria", help="la cadena del registro de auditoría de la consola")
    auditoria.add_argument(
        "accion",
        choices=["verificar", "sellar"],
        help="verificar: informa la primera fila cambiada, insertada o eliminada; sellar: firma los días cerrados",
    )
    revision = commands.add_parser(
        "revision-nlu", help="la lista de mensajes no entendidos que el personal marcó para revisar"
    )
    revision.add_argument(
        "accion", choices=["exportar"], help="exportar: escribe los ejemplos propuestos en YAML de Rasa NLU"
    )
    revision.add_argument("--salida", default=None, help="archivo a escribir (por defecto var/revision_nlu.yml)")
    legibilidad = commands.add_parser("legibilidad", help="legibilidad (Fernández-Huerta, INFLESZ) de cada texto")
    legibilidad.add_argument("--peores", type=int, default=20, help="cuántos de los más difíciles listar")
    args = parser.parse_args(argv)
    settings = load_settings()

    if args.command == "run":
        from bot.cli.run import main_run

        return main_run(settings)
    if args.command == "chat":
        from bot.cli.chat import main_chat

        return main_chat(settings, url=args.url)
    if args.command == "train":
        from bot.cli.model import main_train

        return main_train(settings)
    if args.command == "migrate":
        from bot.cli.stack import prepare_databases

        prepare_databases(settings)
        return 0
    if args.command == "nlu-report":
        from bot.cli.nlu_report import main_nlu_report

        return main_nlu_report(settings, fraction=args.fraction)
    if args.command == "trabajador":
        import asyncio

        from bot.logs import configure_logging
        from bot.privacy.encryption import protector_from
        from bot.services import build_servicios
        from bot.tramites.worker import run_forever

        configure_logging(
            level=settings.log_level, json=settings.log_json, pseudonym_key=protector_from(settings).hash_key
        )

        async def _work() -> None:
            await run_forever(await build_servicios(settings))

        asyncio.run(_work())
        return 0
    if args.command == "crear-admin":
        from bot.cli.stack import prepare_databases
        from bot.console.cli import main_crear_admin

        prepare_databases(settings)
        return main_crear_admin(settings, usuario=args.usuario, nombre=args.nombre, password_stdin=args.password_stdin)
    if args.command == "rotar-claves":
        from bot.cli.keys import main_rotar_claves

        return main_rotar_claves(settings)
    if args.command in ("purgar", "brecha"):
        from bot.cli.privacy import main_brecha, main_purgar

        if args.command == "purgar":
            return main_purgar(settings)
        return main_brecha(settings, desde=args.desde, hasta=args.hasta, categoria=args.categoria)
    if args.command == "verificar":
        from bot.cli.verify import main_verificar

        return main_verificar(settings, args.objetivo)
    if args.command == "auditoria":
        from bot.cli.audit import main_auditoria

        return main_auditoria(settings, args.accion)
    if args.command == "revision-nlu":
        from pathlib import Path

        from bot.cli.nlu_review import main_revision_nlu

        return main_revision_nlu(settings, args.accion, salida=Path(args.salida) if args.salida else None)
    if args.command == "legibilidad":
        from bot.cli.readability import main_legibilidad

        return main_legibilidad(settings.project_dir, worst=args.peores)
    if args.command == "bench-memoria":
        from bot.cli.bench_memory import main_bench_memoria

        return main_bench_memoria()
    if args.command == "bench-conversacion":
        from bot.cli.bench_conversation import main_bench_conversacion

        return main_bench_conversacion(
            settings,
            model=args.modelo,
            postgres_url=args.postgres_url if args.postgres else None,
            conversations=max(1, args.conversaciones),
        )
    if args.command == "bench-escala":
        from bot.cli.bench_scale import main_bench_escala

        return main_bench_escala(
            settings,
            postgres_url=args.postgres_url,
            redis_url=args.redis_url,
            conversations=max(1, args.conversaciones),
        )
    if args.command == "bench-documentos":
        from bot.cli.bench_documents import main_bench_documentos

        return main_bench_documentos(settings, count=args.n)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
