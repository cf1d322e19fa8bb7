"""THE role x action rules of the web platform, and the access policy that applies them.

Every service asks ``ctx.authorize(action, resource)`` before it reads; on the web that question
reaches :class:`SpacePolicy`, which answers from :data:`RULES` alone. The web's route
dependencies (``hopia.web.roles``) ask the same policy, so a route and the service behind it
can never disagree, and a service called by another front end refuses the same way.

Two data spaces (docs/architecture.md): the identified space (``hopia_id``: names, original
texts) and the research space (``omop``: pseudonymised). The rules, per role:

- clinician: identified data of the patients with a stay in one of the care sites of their
  perimeter; nothing else. Outside the perimeter, only by breaking the glass (:data:`BREAK_GLASS`):
  allowed to the roles the installation names (``web.break_glass_roles``), with a reason,
  flagged in the audit log;
- researcher: the research space only (documents, cohorts with small-cell suppression);
- data_steward (DIM): the research space, quality, cohorts, re-identification with a reason;
  ingest (uploads), quality runs and k-anonymous exports as background jobs;
- manager: aggregate activity figures only, and axis 4 (``management.*``): forecasts, bed
  needs, rosters, stock, carbon and the steering indicators (aggregates, small cells suppressed);
- admin: accounts, roles, perimeters, the audit log and every user's jobs; no patient data;
- every role: its own background jobs (``jobs.read``, ``jobs.cancel``);
- every role: the assistant through the LLM gateway (``assistant.chat``), its own usage and API
  keys, its own history of questions and tasks (``assistant.history``: nobody reads another's);
  manager and admin: everyone's usage (``assistant.usage.all``).
- every role: knowledge collections (``collection.*``) and questions over them
  (``assistant.ask``); the collection's owner and shares decide which ones.
- dictation (``dictation.*``): a clinician's own drafts and their validation, for the patients
  of the perimeter; the transcription as a job.
- assistant tasks (``task.*``): the patient summary and the discharge letter for a clinician
  within the perimeter, cohort-from-question and the article draft for a researcher, the quiz
  and meeting minutes for every role.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from enum import StrEnum
from typing import TYPE_CHECKING

from hopia.platform.access import Principal
from hopia.platform.exceptions import AccessDeniedError

if TYPE_CHECKING:
    from sqlalchemy import Connection


class Role(StrEnum):
    CLINICIAN = "clinician"
    RESEARCHER = "researcher"
    DATA_STEWARD = "data_steward"
    MANAGER = "manager"
    ADMIN = "admin"


ROLE_LABELS: dict[Role, str] = {
    Role.CLINICIAN: "clinicien",
    Role.RESEARCHER: "chercheur",
    Role.DATA_STEWARD: "DIM (gestionnaire de données)",
    Role.MANAGER: "direction / pilotage",
    Role.ADMIN: "administrateur",
}


class Scope(StrEnum):
    """How far a rule reaches: any resource, or only the patients of the user's perimeter."""

    ANY = "any"
    PERIMETER = "perimeter"


# The actions a service asks about, per role. A key ending with "." covers every action that
# starts with it ("cohort." covers "cohort.run"). Identified-space actions are PERIMETER-scoped.
# Every role follows its own background jobs (the jobs service shows a user their own only).
_OWN_JOBS = {"jobs.read": Scope.ANY, "jobs.cancel": Scope.ANY}
# Every staff role uses the assistant through the gateway: chat, its own usage, its own API keys.
_ASSISTANT = {
    "assistant.chat": Scope.ANY,
    "assistant.usage": Scope.ANY,
    "assistant.keys": Scope.ANY,
    "assistant.history": Scope.ANY,  # one's own entries only (hopia.services.history)
}
# Every role uses knowledge collections (protocols, procedures, course material: no patient
# data) and asks questions over them; which collection a user may read is decided by the
# collection's owner and shares (hopia.services.collections), not by the role.
_KNOWLEDGE = {"collection.": Scope.ANY, "assistant.ask": Scope.ANY}
# Assistant tasks every staff role may run (a protocol's quiz, a meeting's minutes): no
# patient data is read.
_STAFF_TASKS = {"task.quiz": Scope.ANY, "task.minutes": Scope.ANY}

RULES: dict[Role, dict[str, Scope]] = {
    Role.CLINICIAN: {
        "patient.identified": Scope.PERIMETER,
        "document.identified": Scope.PERIMETER,
        **_OWN_JOBS,
        **_ASSISTANT,
        **_KNOWLEDGE,
        "task.patient_summary": Scope.PERIMETER,
        "task.discharge_letter": Scope.PERIMETER,
        # a dictation's drafts kept on the server and their validation (which ingests the
        # note) are judged on the patient; the transcription of a draft runs as a job (kind
        # dictation.transcribe, queued with dictation.draft on the patient alone: a clinician
        # has no jobs.submit, so no other kind is theirs)
        "dictation.draft": Scope.PERIMETER,
        "dictation.validate": Scope.PERIMETER,
        # a dictation's draft reads nothing of the record and writes nothing to it (the
        # validation, which ingests it, is judged on the patient)
        "dictation.transcribe": Scope.ANY,
        # putting the clinician's own dictated section into written form: reads no record
        "task.dictation_section": Scope.ANY,
        **_STAFF_TASKS,
    },
    Role.RESEARCHER: {
        "document.research": Scope.ANY,
        "cohort.": Scope.ANY,
        **_OWN_JOBS,
        **_ASSISTANT,
        **_KNOWLEDGE,
        "task.cohort_from_question": Scope.ANY,
        "task.article_draft": Scope.ANY,
        **_STAFF_TASKS,
    },
    Role.DATA_STEWARD: {
        "document.research": Scope.ANY,
        "cohort.": Scope.ANY,
        "quality.": Scope.ANY,
        "pseudo.reidentify": Scope.ANY,
        "activity.aggregates": Scope.ANY,
        # long work as background jobs: an upload's ingest, a quality run, an export
        "jobs.submit": Scope.ANY,
        "ingest.run": Scope.ANY,
        "ingest.patients": Scope.ANY,
        "share.export": Scope.ANY,
        **_OWN_JOBS,
        **_ASSISTANT,
        **_KNOWLEDGE,
        **_STAFF_TASKS,
    },
    Role.MANAGER: {
        "activity.aggregates": Scope.ANY,
        # axis 4: management.read (dashboards, forecasts, indicators) and management.plan
        # (solving a roster, importing stock movements, editing a carbon inventory)
        "management.": Scope.ANY,
        **_OWN_JOBS,
        **_ASSISTANT,
        "assistant.usage.all": Scope.ANY,  # what the hospital's use of LLMs costs, per user
        **_KNOWLEDGE,
        **_STAFF_TASKS,
    },
    Role.ADMIN: {
        "account.": Scope.ANY,
        "audit.": Scope.ANY,
        # every user's jobs: kinds, progress, counts and French messages, no patient data
        "jobs.read": Scope.ANY,
        "jobs.cancel": Scope.ANY,
        "jobs.all": Scope.ANY,
        **_ASSISTANT,
        "assistant.usage.all": Scope.ANY,
        **_KNOWLEDGE,
        **_STAFF_TASKS,
    },
}
# The identified patient list of a cohort is identified data outside any perimeter: nobody on
# the web gets it through "cohort." (the DIM asks it with a reason through the CLI).
DENIED: dict[Role, frozenset[str]] = {
    Role.RESEARCHER: frozenset({"cohort.patients"}),
    Role.DATA_STEWARD: frozenset({"cohort.patients"}),
}

BREAK_GLASS = "+break_glass"
"""Suffix of an action asked outside the perimeter with a reason
(``patient.identified+break_glass``)."""

# The resources a perimeter rule can judge: one patient (research person id), or "perimeter"
# for a list the service restricts to the perimeter itself.
_PERSON = re.compile(r"person:(\d+)")
PERIMETER_RESOURCE = "perimeter"


def rule_for(role: Role, action: str) -> Scope | None:
    """The scope ``role`` has on ``action``, or None when it may not."""
    if action in DENIED.get(role, frozenset()):
        return None
    rules = RULES.get(role, {})
    if action in rules:
        return rules[action]
    for key, scope in rules.items():
        if key.endswith(".") and action.startswith(key):
            return scope
    return None


def roles_of(principal: Principal) -> list[Role]:
    return [Role(r) for r in sorted(principal.roles) if r in Role.__members__.values()]


def may(principal: Principal, action: str) -> bool:
    """Whether one of the principal's roles has a rule for ``action`` (any scope): what a front
    end shows; the policy still judges the resource."""
    base = action.removesuffix(BREAK_GLASS)
    return any(rule_for(role, base) is not None for role in roles_of(principal))


class SpacePolicy:
    """The web's access policy: :data:`RULES`, perimeters and break-glass.

    ``care_sites_of(person_id, conn)`` gives the care sites where a patient has had a stay,
    read on ``conn`` when the service hands its transaction over (the perimeter check, the read
    and its audit entry then commit together), else on a connection of its own; the web builds
    it over its warehouse (:func:`hopia.platform.identity.store.perimeter_reader`)."""

    def __init__(
        self,
        care_sites_of: Callable[[int, Connection | None], Collection[int]],
        break_glass_roles: Collection[str] = (),
    ) -> None:
        self.care_sites_of = care_sites_of
        self.break_glass_roles = frozenset(break_glass_roles)

    def check(
        self, principal: Principal, action: str, resource: str, conn: Connection | None = None
    ) -> None:
        base = action.removesuffix(BREAK_GLASS)
        glass = action != base
        outside = False
        for role in roles_of(principal):
            scope = rule_for(role, base)
            if scope is None:
                continue
            if scope is Scope.ANY:
                return
            if glass:
                if role in self.break_glass_roles:
                    return
                continue
            if self._in_perimeter(principal, resource, conn):
                return
            outside = True
        if outside:
            glass_ok = any(r in self.break_glass_roles for r in principal.roles)
            raise AccessDeniedError(
                f"patient hors de votre périmètre (services : "
                f"{', '.join(map(str, sorted(principal.care_sites))) or 'aucun'})"
                + (
                    " : un accès exceptionnel (bris de glace) est possible avec un motif, "
                    "tracé dans le journal d'audit"
                    if glass_ok
                    else ""
                ),
                details={"action": base, "outside_perimeter": True, "break_glass": glass_ok},
            )
        roles = ", ".join(sorted(principal.roles)) or "aucun"
        raise AccessDeniedError(
            f"action « {base} » non autorisée pour votre rôle ({roles})",
            details={"action": base},
        )

    def _in_perimeter(self, principal: Principal, resource: str, conn: Connection | None) -> bool:
        if resource == PERIMETER_RESOURCE:
            return True  # the service restricts the list to principal.care_sites
        match = _PERSON.fullmatch(resource)
        if match is None or not principal.care_sites:
            return False
        return bool(set(self.care_sites_of(int(match.group(1)), conn)) & principal.care_sites)
