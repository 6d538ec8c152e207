"""Human handoff: who owns a conversation and the transitions allowed between owners."""
