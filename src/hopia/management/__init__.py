"""Axis 4, hospital management: activity forecasts with their uncertainty, bed needs, staff
rosters, purchasing and stock, the carbon footprint, and the steering indicators read from the
warehouse.

One folder per tool (``forecast``, ``beds``, ``roster``, ``stock``, ``carbon``, ``steering``);
each is a small library with tidy pandas frames in and out (the statsforecast contract for
forecasters: a long frame ``unique_id, ds, y``), called by ``hopia.services`` for the CLI and
the web. Installed with the extra ``management``.
"""
