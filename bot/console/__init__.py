"""The staff console: login, queues, conversations, context, live updates, dashboard and audit."""
