"""``hopia pseudo reidentify`` and ``hopia audit verify``: the key vault's two commands.

Re-identification prints a note with its original values restored; it demands a reason, and the
reason, the actor and the note are written to the tamper-evident audit log in the same
transaction as the read. The restored text goes to stdout only (pipe it, do not log it);
everything else goes to stderr.
"""

from __future__ import annotations

import typer

from hopia.cli._common import console, err_console, handle_errors

_REASON_HELP = (
    "Motif de la ré-identification (obligatoire, 10 caractères minimum), inscrit au journal "
    "d'audit : demande du DIM, identitovigilance, retour au dossier…"
)


def reidentify(
    note_id: int = typer.Option(..., "--note-id", help="Note à ré-identifier (omop.note.note_id)."),
    reason: str | None = typer.Option(None, "--reason", help=_REASON_HELP),
    actor: str | None = typer.Option(
        None, "--actor", help="Demandeur, s'il n'est pas l'utilisateur du système qui lance."
    ),
) -> None:
    """Afficher une note avec ses valeurs d'origine (motif obligatoire, accès journalisé)."""
    from hopia.data.pseudo.vault import Vault, check_reason
    from hopia.platform.config import get_settings
    from hopia.platform.warehouse import open_warehouse

    with handle_errors():
        reason = check_reason(reason)  # before anything is opened: no reason, no access
        settings = get_settings()
        wh = open_warehouse(settings)
        try:
            result = Vault(wh, settings.resolved_vault_key()).reidentify_note(
                note_id, reason=reason, actor=actor
            )
        finally:
            wh.close()
    date = f", date d'origine {result.original_date.isoformat()}" if result.original_date else ""
    err_console.print(
        f"Note {note_id}{date} : {len(result.restored)} valeur(s) restaurée(s), "
        f"{len(result.missing)} absente(s) du coffre ; accès inscrit au journal d'audit "
        f"(entrée {result.audit.audit_id}).",
        highlight=False,
    )
    typer.echo(result.text)


def audit_verify(
    expected_head: str | None = typer.Option(
        None,
        "--expected-head",
        help="Empreinte de tête relevée auparavant (hors entrepôt) : vérifie aussi que la fin "
        "du journal n'a pas été supprimée.",
    ),
) -> None:
    """Vérifier l'intégrité du journal d'audit (chaînage des empreintes)."""
    from hopia.platform.audit import verify
    from hopia.platform.warehouse import open_warehouse

    with handle_errors():
        wh = open_warehouse()
        try:
            with wh.engine.connect() as conn:
                result = verify(conn, expected_head)
        finally:
            wh.close()
    if not result.ok:
        where = f" (entrée {result.broken_at})" if result.broken_at is not None else ""
        err_console.print(
            f"[red]Journal d'audit altéré[/red]{where} : {result.problem}. "
            f"{result.entries} entrée(s) vérifiée(s) avant la rupture.",
            highlight=False,
        )
        raise typer.Exit(1)
    if result.head_hash is None:
        console.print("Journal d'audit vide : rien à vérifier.")
        return
    # soft_wrap: the head hash stays on one line, to be copied and kept elsewhere.
    console.print(
        f"Journal d'audit intègre : {result.entries} entrée(s). Tête : entrée {result.head_id}, "
        f"empreinte {result.head_hash}",
        highlight=False,
        soft_wrap=True,
    )
