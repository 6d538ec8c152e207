"""Custom Rasa actions, served by the rasa-sdk action server (`chasqui actions`).

One module per trámite; actions read slots, call one service, utter by template name, return events.
"""
