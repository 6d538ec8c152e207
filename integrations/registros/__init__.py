"""Typed async clients of Ecuador's public registries, and (in `sandbox`) a server that imitates them."""
