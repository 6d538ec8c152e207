"""Run the sandbox registries server: ``python -m integrations.registros.sandbox --port 8300``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date

import uvicorn

from integrations.registros.sandbox.app import create_app


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line, build the app and serve it until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m integrations.registros.sandbox",
        description="Sandbox of Ecuador's public registries (fictitious data).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8300, help="port (default: 8300)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the population (default: 2026)")
    parser.add_argument("--population", type=int, default=2000, help="number of people (default: 2000)")
    parser.add_argument("--hoy", type=date.fromisoformat, default=None, help="the sandbox's day, YYYY-MM-DD")
    parser.add_argument("--log-level", default="warning", help="uvicorn log level (default: warning)")
    parser.add_argument("--access-log", action="store_true", help="log every request (paths carry cédulas)")
    args = parser.parse_args(argv)
    app = create_app(seed=args.seed, population=args.population, hoy=args.hoy)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=args.access_log)


if __name__ == "__main__":
    main()
