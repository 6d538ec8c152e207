"""Identity: proving who the citizen is against the Registro Civil and linking the chat for a while."""
