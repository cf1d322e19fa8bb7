"""``hopia collection``: knowledge collections (create, add, list, show, remove, share,
search).

A thin adapter over :mod:`hopia.services.collections`, which checks who may do what and audits.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from hopia.cli._common import console, context, handle_errors

app = typer.Typer(
    help="Collections documentaires : protocoles, procédures, supports de cours.",
    no_args_is_help=True,
)
_ACTOR = typer.Option(None, "--actor", help="Demandeur, si ce n'est pas vous.")
_NAME = typer.Argument(..., help="Nom de la collection (minuscules, chiffres, - et _).")
_FLAGS = {"collection": "NOM", "name": "NOM", "document_id": "DOCUMENT"}


@app.command("create")
def create(
    name: str = _NAME,
    title: str = typer.Option("", "--title", help="Titre lisible."),
    group: str | None = typer.Option(None, "--group", help="Groupe (rôle) propriétaire."),
    actor: str | None = _ACTOR,
) -> None:
    """Créer une collection (journalisé)."""
    from hopia.services import collections as svc

    with handle_errors(_FLAGS), context(actor) as ctx:
        info = svc.create(ctx, svc.CreateRequest.of(name=name, title=title, group=group))
    owner = f"groupe {info.owner}" if info.owner_kind == "group" else info.owner
    console.print(f"Collection créée : {escape(info.name)} (propriétaire : {escape(owner)})")


@app.command("add")
def add(
    name: str = _NAME,
    files: list[Path] = typer.Argument(..., help="Documents : PDF, Word, HTML, Markdown, texte."),
    actor: str | None = _ACTOR,
) -> None:
    """Ajouter (ou remplacer) des documents dans une collection (journalisé)."""
    from hopia.services import collections as svc

    with handle_errors(_FLAGS), context(actor) as ctx:
        for path in files:
            request = svc.AddRequest.of(collection=name, filename=path.name)
            added = svc.add_document(ctx, request, path.read_bytes())
            status = {"added": "ajouté", "replaced": "remplacé", "unchanged": "inchangé"}
            d = added.document
            console.print(
                f"{escape(d.name)} : {status[added.status]} ({d.passages} passages, id {d.id})"
            )


@app.command("list")
def list_collections(actor: str | None = _ACTOR) -> None:
    """Lister les collections que vous pouvez lire."""
    from hopia.services import collections as svc

    with handle_errors(_FLAGS), context(actor) as ctx:
        infos = svc.list_visible(ctx)
    if not infos:
        console.print("Aucune collection.")
        return
    table = Table(title="Collections")
    for column in ("Nom", "Titre", "Propriétaire", "Documents", "Partagée avec"):
        table.add_column(column)
    for c in infos:
        owner = f"groupe {c.owner}" if c.owner_kind == "group" else c.owner
        shared = ", ".join(
            f"groupe {g.name}" if g.kind == "group" else g.name for g in c.shared_with
        )
        table.add_row(
            escape(c.name), escape(c.title), escape(owner), str(c.documents), escape(shared)
        )
    console.print(table)


@app.command("show")
def show(name: str = _NAME, actor: str | None = _ACTOR) -> None:
    """Afficher une collection et ses documents (avec leur identifiant)."""
    from hopia.services import collections as svc

    with handle_errors(_FLAGS), context(actor) as ctx:
        info, documents = svc.get(ctx, svc.NamedRequest.of(collection=name))
    console.print(f"{escape(info.title)} ({escape(info.name)}), {len(documents)} document(s)")
    table = Table()
    for column in ("Identifiant", "Document", "Format", "Passages", "Ajouté par"):
        table.add_column(column)
    for d in documents:
        table.add_row(d.id, escape(d.name), d.format, str(d.passages), escape(d.added_by))
    console.print(table)


@app.command("remove")
def remove(
    name: str = _NAME,
    document: str = typer.Argument(
        ..., help="Identifiant du document (16 caractères hexadécimaux, listé avec la collection)."
    ),
    actor: str | None = _ACTOR,
) -> None:
    """Retirer un document d'une collection (journalisé)."""
    from hopia.services import collections as svc

    with handle_errors(_FLAGS), context(actor) as ctx:
        removed = svc.remove_document(
            ctx, svc.RemoveRequest.of(collection=name, document_id=document)
        )
    console.print(f"Document retiré : {escape(removed.name)}")


@app.command("delete")
def delete(name: str = _NAME, actor: str | None = _ACTOR) -> None:
    """Supprimer une collection, ses partages et son index (journalisé)."""
    from hopia.services import collections as svc

    with handle_errors(_FLAGS), context(actor) as ctx:
        deleted = svc.delete(ctx, svc.NamedRequest.of(collection=name))
    console.print(
        f"Collection supprimée : {escape(deleted.name)} ({deleted.documents} document(s))"
    )


@app.command("share")
def share(
    name: str = _NAME,
    user: str | None = typer.Option(None, "--user", help="Utilisateur."),
    group: str | None = typer.Option(None, "--group", help="Groupe (rôle)."),
    revoke: bool = typer.Option(False, "--revoke", help="Retirer le partage."),
    actor: str | None = _ACTOR,
) -> None:
    """Partager une collection avec un utilisateur ou un groupe (journalisé)."""
    from hopia.services import collections as svc

    with handle_errors(_FLAGS), context(actor) as ctx:
        info = svc.share(
            ctx, svc.ShareRequest.of(collection=name, user=user, group=group), revoke=revoke
        )
    shared = ", ".join(
        f"groupe {g.name}" if g.kind == "group" else g.name for g in info.shared_with
    )
    console.print(f"{escape(info.name)} partagée avec : {escape(shared) or 'personne'}")


@app.command("search")
def search(
    query: str = typer.Argument(..., help="Recherche en français."),
    collection: list[str] = typer.Option(..., "--collection", "-c", help="Collection(s)."),
    k: int = typer.Option(5, "--k", min=1, max=50, help="Nombre de passages."),
    mode: str | None = typer.Option(None, "--mode", help="hybrid, bm25 ou dense."),
    actor: str | None = _ACTOR,
) -> None:
    """Chercher les passages les plus pertinents (journalisé, sans le texte de la recherche)."""
    from hopia.services import collections as svc

    with (
        handle_errors({"collections": "--collection", "query": "RECHERCHE"}),
        context(actor) as ctx,
    ):
        result = svc.search(
            ctx, svc.SearchRequest.of(collections=collection, query=query, k=k, mode=mode)
        )
    if not result.passages:
        console.print("Aucun passage trouvé.")
    for i, p in enumerate(result.passages, 1):
        where = f"{p.document}" + (f", {p.section}" if p.section else "")
        where += f", page {p.page}" if p.page else ""
        console.print(
            f"[bold][{i}][/bold] {escape(where)} (caractères {p.start}–{p.end}, "
            f"similarité {p.similarity:.2f})"
        )
        console.print(escape(p.text), highlight=False)
        console.print()
