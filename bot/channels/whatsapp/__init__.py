"""WhatsApp channel through Twilio: signed webhooks, REST replies, numbered options, templates."""
