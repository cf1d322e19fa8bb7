"""Offline dictation: speech recognition, French dictation conventions, structuring."""
