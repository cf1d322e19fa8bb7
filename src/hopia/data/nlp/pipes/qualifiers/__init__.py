"""Hopia's qualifier corrections: cue lists for EDS-NLP's qualifiers (:mod:`.patterns`) and the
``hopia.qualifier_rules`` post-pass (:mod:`.qualifier_rules`)."""
