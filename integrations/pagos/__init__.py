"""Payment providers: one protocol, a sandbox provider with documented test cards."""
