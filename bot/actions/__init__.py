"""Custom Rasa actions, served by the rasa-sdk action server (`chasqui actions`).

Conversation-wide actions live here; each trámite's actions live in its package
(`bot/tramites/<clave>/actions.py`); `registered.py` imports them so that rasa-sdk registers them.
"""
