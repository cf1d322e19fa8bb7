"""``hopia.labs``: lab results and vital signs, LOINC-coded (see :mod:`.labs`)."""

from hopia.data.nlp.pipes.labs.labs import LabsMatcher, find_readings

__all__ = ["LabsMatcher", "find_readings"]
