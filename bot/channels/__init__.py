"""Channel adapters: one subpackage per channel, registered in `bot.channels.registry`."""
