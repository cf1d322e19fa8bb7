"""Axis 2, tools for daily care: voice dictation turned into a structured, coded note."""
