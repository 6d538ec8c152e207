"""Clients for systems outside the project: registries, payment provider, signing backends."""
