"""Service analytics: events derived from what Chasqui records, the console's report, and the open data."""
