"""Data protection: the one place that decides what is personal and how it is masked."""
