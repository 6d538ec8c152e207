"""Conversation routing: store every message, decide who answers, talk to Rasa."""
