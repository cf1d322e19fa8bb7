"""The service layer: one module per capability, called by every front end.

A service takes a :class:`~hopia.services.context.Context` (settings, who acts, access policy)
and a typed request; it validates, asks the access policy, writes the audit record and returns a
typed result. The CLI (``hopia.cli``) is a thin adapter over these functions, as the web API,
the assistant's tools and the job runner will be: a rule written here holds for all of them.

Capabilities: :mod:`.setup` (``hopia init``), :mod:`.audit`, :mod:`.reidentify`, :mod:`.ingest`,
:mod:`.pseudo`, :mod:`.nlp`, :mod:`.synth`, :mod:`.warehouse`, :mod:`.cohorts`,
:mod:`.quality`, :mod:`.sharing`, :mod:`.predict`, :mod:`.demo`, :mod:`.jobs` (background
jobs; their kinds in :mod:`.job_kinds`, an ingest's files stored by :mod:`.uploads`);
:mod:`.texts` is the ``{id, text}`` contract of the services that take clinical texts. Import
the module you need
(``from hopia.services import cohorts``): each imports its heavy dependencies itself, so the
CLI starts without loading the NLP for a command that does not use it.
"""
