"""``hopia.sections``: section titles on their own line and inline (see :mod:`.sections`)."""
