"""Telegram channel (python-telegram-bot): webhook or long polling, inline buttons, documents."""
