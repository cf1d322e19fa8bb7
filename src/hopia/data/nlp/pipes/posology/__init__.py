"""``hopia.posology``: dose, route, frequency and duration of drug mentions (see
:mod:`.posology`)."""

from hopia.data.nlp.pipes.posology.posology import PosologyReader, choose_atc, read_posology

__all__ = ["PosologyReader", "choose_atc", "read_posology"]
