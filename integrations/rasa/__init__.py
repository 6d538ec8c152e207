"""Rasa, as a system the gateway talks to: the signature of its input channel and the channel Rasa loads."""
