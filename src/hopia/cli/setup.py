"""``hopia init``: make this installation ready (keys, warehouse schema)."""

from __future__ import annotations

from rich.markup import escape

from hopia.cli._common import console, context, handle_errors

_KEY_STATE = {
    "created": "créée",
    "present": "déjà présente",
    "configured": "fournie par la configuration",
}


def init() -> None:
    """Créer les clés de cette installation (secret de pseudonymisation, clé du coffre, clé du
    journal d'audit), le schéma de l'entrepôt, et ancrer le journal d'audit ; ne remplace
    jamais une clé existante."""
    from hopia.services.setup import init as run_init

    with handle_errors(), context() as ctx:
        result = run_init(ctx)
    keys = result.keys
    console.print(f"Dossier de l'installation : {escape(str(keys.home))}", highlight=False)
    console.print(f"Secret de pseudonymisation : {_KEY_STATE[keys.secret]}", highlight=False)
    console.print(f"Clé du coffre de ré-identification : {_KEY_STATE[keys.vault]}", highlight=False)
    console.print(f"Clé du journal d'audit : {_KEY_STATE[keys.audit]}", highlight=False)
    console.print(f"Entrepôt ({result.dialect}) prêt : {escape(result.warehouse)}", highlight=False)
    if result.audit == "anchored":
        console.print(
            f"Journal d'audit vérifié ({result.audit_entries} entrée(s)) et ancré : sa tête est "
            "désormais relevée hors de l'entrepôt, à côté des clés.",
            highlight=False,
        )
    if keys.created:
        console.print(
            "[yellow]Sauvegardez les clés à part de l'entrepôt[/yellow] : sans elles, les "
            "pseudonymes ne se recalculent plus et le coffre devient illisible."
        )
