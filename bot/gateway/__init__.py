"""The gateway: the ASGI app that owns every conversation (channels, web chat, health)."""
