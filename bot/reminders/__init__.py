"""Reminders the citizen asked for: what is due (`schedule`), subscriptions and the periodic round (`service`)."""
