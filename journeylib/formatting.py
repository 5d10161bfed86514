"""A metric value as text."""
