"""Request and response models of the API, per area (``schemas/<area>.py``)."""
