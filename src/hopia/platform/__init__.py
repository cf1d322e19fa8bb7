"""Shared platform layer. Imports nothing from the axes."""
