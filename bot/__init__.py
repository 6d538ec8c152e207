"""Chasqui: Ecuador's government assistant in the messaging apps people already use."""
