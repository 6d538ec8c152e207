"""The gateway's own web channel: the web chat, `chasqui chat` and end-to-end tests."""
