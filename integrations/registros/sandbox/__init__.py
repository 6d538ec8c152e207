"""Sandbox of Ecuador's public registries: a fictitious population behind the institutions' protocols."""

from integrations.registros.sandbox.app import Credenciales, create_app

__all__ = ["Credenciales", "create_app"]
