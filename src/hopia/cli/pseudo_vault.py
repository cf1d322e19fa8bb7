"""``hopia pseudo reidentify``, ``hopia pseudo rotate-vault-key`` and ``hopia audit verify``:
the key vault's commands.

Re-identification prints a note with its original values restored; it demands a reason, and the
reason, the actor and the note are written to the tamper-evident audit log in the same
transaction as the read. The restored text goes to stdout only (pipe it, do not log it);
everything else goes to stderr.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from hopia.cli._common import console, context, err_console, handle_errors

_REASON_HELP = (
    "Motif de la ré-identification (obligatoire, au moins deux mots qui disent pourquoi), "
    "inscrit au journal d'audit : demande du DIM, identitovigilance, retour au dossier…"
)


def reidentify(
    note_id: int = typer.Option(..., "--note-id", help="Note à ré-identifier (omop.note.note_id)."),
    reason: str | None = typer.Option(None, "--reason", help=_REASON_HELP),
    actor: str | None = typer.Option(
        None, "--actor", help="Demandeur, s'il n'est pas l'utilisateur du système qui lance."
    ),
) -> None:
    """Afficher une note avec ses valeurs d'origine (motif obligatoire, accès journalisé)."""
    from hopia.services.reidentify import ReidentifyNoteRequest, reidentify_note

    with handle_errors(), context(actor) as ctx:
        request = ReidentifyNoteRequest.of(note_id=note_id, reason=reason)
        result = reidentify_note(ctx, request)
    date = f", date d'origine {result.original_date.isoformat()}" if result.original_date else ""
    err_console.print(
        f"Note {note_id}{date} : {len(result.restored)} valeur(s) restaurée(s), "
        f"{len(result.missing)} absente(s) du coffre ; accès inscrit au journal d'audit "
        f"(entrée {result.audit.audit_id}).",
        highlight=False,
    )
    typer.echo(result.text)


def rotate_vault_key(
    reason: str | None = typer.Option(
        None,
        "--reason",
        help="Motif du renouvellement (obligatoire, au moins deux mots qui disent pourquoi), "
        "inscrit au journal d'audit : rotation annuelle, départ d'un administrateur…",
    ),
    new_key_file: Path | None = typer.Option(
        None,
        "--new-key-file",
        help="Fichier privé (droits 600) contenant la nouvelle clé (32 octets en base64, par ex. "
        "« openssl rand -base64 32 ») ; obligatoire quand la clé est configurée par "
        "HOPIA_VAULT_KEY. Sans lui, une clé aléatoire est créée.",
    ),
) -> None:
    """Renouveler la clé du coffre : tout le coffre rechiffré en une transaction, journalisée ;
    arrêtez d'abord le web et les workers."""
    from hopia.services.vault import RotateVaultKeyRequest
    from hopia.services.vault import rotate_vault_key as rotate

    with handle_errors(), context() as ctx:
        request = RotateVaultKeyRequest.of(reason=reason, new_key_file=new_key_file)
        result = rotate(ctx, request)
    console.print(
        f"Clé du coffre renouvelée : {result.entries} valeur(s) de {result.patients} "
        f"patient(s) rechiffrée(s), clé {result.old_key_id} remplacée par {result.new_key_id} "
        f"(entrée {result.audit_id} du journal d'audit).",
        highlight=False,
    )
    if result.mode == "file":
        console.print(
            f"Nouvelle clé en place : {result.key_file}. Ancienne clé conservée (droits 600) : "
            f"{result.old_key_file} ; elle seule relit le coffre des sauvegardes de l'entrepôt "
            "faites avant ce renouvellement : rangez-la avec la sauvegarde des clés (à part de "
            "l'entrepôt), puis retirez-la du dossier Hopia.",
            highlight=False,
        )
    else:
        console.print(
            f"Mettez maintenant HOPIA_VAULT_KEY à jour dans le coffre de secrets avec le "
            f"contenu de {result.new_key_file}, puis redémarrez les services (web, workers) : "
            "d'ici là, ils refusent de lire le coffre. Gardez l'ancienne valeur avec la "
            "sauvegarde des clés : elle seule relit le coffre des sauvegardes de l'entrepôt "
            f"faites avant ce renouvellement. Effacez {result.new_key_file} une fois la clé "
            "enregistrée.",
            highlight=False,
        )
    console.print(
        "[bold]Sauvegardez dès maintenant la nouvelle clé à part de l'entrepôt[/bold] (jamais "
        "avec ses sauvegardes) : sans elle, le coffre est illisible.",
        highlight=False,
    )


def audit_verify(
    expected_head: str | None = typer.Option(
        None,
        "--expected-head",
        help="Empreinte de tête relevée auparavant (hors entrepôt) : vérifie aussi que la fin "
        "du journal n'a pas été supprimée.",
    ),
) -> None:
    """Vérifier l'intégrité du journal d'audit : chaînage signé par la clé d'audit et tête
    comparée au point de contrôle gardé hors de l'entrepôt (troncature, réécriture)."""
    from hopia.services.audit import VerifyRequest, verify

    with handle_errors(), context() as ctx:
        result = verify(ctx, VerifyRequest.of(expected_head=expected_head))
    if not result.ok:
        where = f" (entrée {result.broken_at})" if result.broken_at is not None else ""
        err_console.print(
            f"[red]Journal d'audit altéré[/red]{where} : {escape(result.problem or '')}. "
            f"{result.entries} entrée(s) vérifiée(s) avant la rupture.",
            highlight=False,
        )
        raise typer.Exit(1)
    if result.head_hash is None:
        # Empty, and no checkpoint outside the warehouse says otherwise: nothing recorded yet.
        console.print("Journal d'audit vide : rien n'y a encore été inscrit.")
        return
    # soft_wrap: the head hash stays on one line, to be copied and kept elsewhere.
    console.print(
        f"Journal d'audit intègre : {result.entries} entrée(s). Tête : entrée {result.head_id}, "
        f"empreinte {result.head_hash}",
        highlight=False,
        soft_wrap=True,
    )
