"""``hopia account``: local accounts of the web platform, so that an admin exists before the
web does. Passwords are typed at a hidden prompt (or read from stdin with ``--password-stdin``
for scripts), never given as an option: options end up in shell histories and process lists."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hopia.cli._common import console, context, handle_errors
from hopia.services import accounts, api_keys

app = typer.Typer(help="Comptes de la plateforme web (rôles, périmètres).", no_args_is_help=True)

ROLES_HELP = "Rôle(s) : clinician, researcher, data_steward, manager, admin (répéter l'option)."
SITES_HELP = "Service(s) du périmètre d'un clinicien : identifiants care_site (répéter l'option)."


def _password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("Mot de passe", hide_input=True, confirmation_prompt="Confirmation")


def _show(account: accounts.Account, verb: str) -> None:
    roles = ", ".join(account.roles) or "aucun"
    sites = ", ".join(map(str, account.care_sites)) or "aucun"
    state = "actif" if account.active else "désactivé"
    console.print(
        f"Compte {escape(account.username)} {verb} : rôles {roles} ; périmètre {sites} ; {state}",
        highlight=False,
    )


@app.command("create", help="Créer un compte (le mot de passe est demandé).")
def create(
    username: Annotated[str, typer.Argument(help="Identifiant (minuscules, chiffres, . _ -).")],
    role: Annotated[list[str], typer.Option("--role", help=ROLES_HELP)],
    care_site: Annotated[list[int] | None, typer.Option("--care-site", help=SITES_HELP)] = None,
    name: Annotated[str | None, typer.Option("--name", help="Nom affiché.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Lire le mot de passe sur l'entrée standard.")
    ] = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="Sans mot de passe local (à définir ensuite).")
    ] = False,
) -> None:
    flags = {"roles": "--role", "care_sites": "--care-site", "display_name": "--name"}
    with handle_errors(flags):
        password = None if no_password else _password(password_stdin)
        request = accounts.CreateAccountRequest.of(
            username=username,
            password=password,
            roles=role,
            care_sites=care_site or [],
            display_name=name,
        )
        with context() as ctx:
            _show(accounts.create_account(ctx, request), "créé")


@app.command("list", help="Lister les comptes.")
def list_() -> None:
    with handle_errors(), context() as ctx:
        found = accounts.list_accounts(ctx)
    table = Table("identifiant", "nom", "rôles", "périmètre", "état", "verrouillé jusqu'à")
    for a in found:
        table.add_row(
            a.username,
            a.display_name or "",
            ", ".join(a.roles),
            ", ".join(map(str, a.care_sites)),
            "actif" if a.active else "désactivé",
            f"{a.locked_until:%Y-%m-%d %H:%M}" if a.locked_until else "",
        )
    console.print(table)
    console.print(f"{len(found)} compte(s)")


@app.command("disable", help="Désactiver un compte (ses sessions sont fermées).")
def disable(username: Annotated[str, typer.Argument(help="Identifiant du compte.")]) -> None:
    with handle_errors(), context() as ctx:
        request = accounts.UpdateAccountRequest.of(username=username, active=False)
        _show(accounts.update_account(ctx, request), "désactivé")


@app.command("enable", help="Réactiver un compte.")
def enable(username: Annotated[str, typer.Argument(help="Identifiant du compte.")]) -> None:
    with handle_errors(), context() as ctx:
        request = accounts.UpdateAccountRequest.of(username=username, active=True)
        _show(accounts.update_account(ctx, request), "réactivé")


@app.command("set-password", help="Changer le mot de passe (lève un verrouillage).")
def set_password(
    username: Annotated[str, typer.Argument(help="Identifiant du compte.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Lire le mot de passe sur l'entrée standard.")
    ] = False,
) -> None:
    with handle_errors():
        request = accounts.PasswordRequest.of(username=username, password=_password(password_stdin))
        with context() as ctx:
            _show(accounts.set_password(ctx, request), "modifié")


@app.command("grant", help="Remplacer les rôles et/ou le périmètre d'un compte.")
def grant(
    username: Annotated[str, typer.Argument(help="Identifiant du compte.")],
    role: Annotated[list[str] | None, typer.Option("--role", help=ROLES_HELP)] = None,
    care_site: Annotated[list[int] | None, typer.Option("--care-site", help=SITES_HELP)] = None,
) -> None:
    with handle_errors({"roles": "--role", "care_sites": "--care-site"}), context() as ctx:
        request = accounts.UpdateAccountRequest.of(
            username=username, roles=role or None, care_sites=care_site or None
        )
        _show(accounts.update_account(ctx, request), "modifié")


keys_app = typer.Typer(
    help="Clés d'API des points d'accès compatibles OpenAI (/v1) : une par script ou outil.",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="api-key")
USER_HELP = "Identifiant du compte à qui la clé appartient."


@keys_app.command("create", help="Créer une clé (affichée une seule fois).")
def key_create(
    username: Annotated[str, typer.Argument(help=USER_HELP)],
    label: Annotated[str, typer.Option("--label", help="À quoi sert la clé (libellé).")],
) -> None:
    with handle_errors({"label": "--label"}), context() as ctx:
        created = api_keys.create_key(
            ctx, api_keys.CreateKeyRequest.of(label=label, username=username)
        )
    console.print(
        f"Clé {created.view.key_id} créée pour {escape(username)} ({escape(label)}). "
        "Elle ne sera plus affichée : conservez-la maintenant.",
        highlight=False,
    )
    print(created.key)  # alone on its line, for a script to read


@keys_app.command("list", help="Lister les clés d'un compte (jamais les clés elles-mêmes).")
def key_list(username: Annotated[str, typer.Argument(help=USER_HELP)]) -> None:
    with handle_errors(), context() as ctx:
        found = api_keys.list_keys(ctx, api_keys.ListKeysRequest.of(username=username))
    table = Table("clé", "libellé", "créée", "dernier usage", "révoquée")
    for k in found:
        table.add_row(
            k.key_id,
            k.label,
            f"{k.created_at:%Y-%m-%d %H:%M}",
            f"{k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "",
            f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "",
        )
    console.print(table)
    console.print(f"{len(found)} clé(s)", highlight=False)


@keys_app.command("revoke", help="Révoquer une clé : elle est refusée dès la requête suivante.")
def key_revoke(
    username: Annotated[str, typer.Argument(help=USER_HELP)],
    key_id: Annotated[
        str, typer.Argument(help="Identifiant de la clé (hopia account api-key list).")
    ],
) -> None:
    with handle_errors(), context() as ctx:
        api_keys.revoke_key(ctx, api_keys.KeyRequest.of(key_id=key_id, username=username))
    console.print(f"Clé {escape(key_id)} révoquée.", highlight=False)
