"""``hopia`` command: one typer app, one sub-app or command per area."""

from __future__ import annotations

import os

# Before anything imports tqdm/edsnlp: no progress-bar noise from libraries, rich bars are ours.
os.environ.setdefault("TQDM_DISABLE", "1")

import sys  # noqa: E402
from typing import Any  # noqa: E402

import typer  # noqa: E402

from hopia.cli import _french  # noqa: E402

_french.install()  # click's and typer's own messages ("Missing argument", "Usage:") in French

from hopia.cli import (  # noqa: E402  # noqa: E402  (axis 3: knowledge)
    account,
    ask,
    assistant,
    beds,
    carbon,
    cohort,
    collection,
    demo,
    dictation,
    forecast,
    ingest,
    jobs,
    llm,
    nlp,
    predict,
    pseudo,
    pseudo_train,
    pseudo_vault,
    quality,
    roster,
    serve,
    setup,
    share,
    spark,
    steering,
    stock,
    synth,
    task,
    warehouse,
)
from hopia.cli._common import internal_error  # noqa: E402


class HopiaApp(typer.Typer):
    """The root command: a bug that escapes a command's ``handle_errors`` (in printing, say) is
    still one French line and exit 3, never a traceback (``HOPIA_DEBUG=1`` shows it)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            try:
                internal_error(exc)
            except typer.Exit as done:
                sys.exit(done.exit_code)


app = HopiaApp(
    name="hopia",
    help="Hopia : plateforme d'IA souveraine du CHU (données cliniques, entrepôt OMOP, TAL).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.command("init", help="Préparer l'installation : clés et schéma de l'entrepôt.")(setup.init)
app.command(
    "synth", help="Générer un CHU synthétique (patients, séjours, documents, annotations)."
)(synth.synth)
app.command("ingest", help="Intégrer des documents : lecture, pseudonymisation, TAL, entrepôt.")(
    ingest.ingest
)
app.add_typer(nlp.app, name="nlp")
pseudo.app.command("reidentify")(pseudo_vault.reidentify)
pseudo.app.command("rotate-vault-key")(pseudo_vault.rotate_vault_key)
pseudo.app.command("train")(pseudo_train.train)
app.add_typer(pseudo.app, name="pseudo")
audit_app = typer.Typer(help="Journal d'audit infalsifiable.", no_args_is_help=True)
audit_app.command("verify")(pseudo_vault.audit_verify)
app.add_typer(audit_app, name="audit")
app.add_typer(warehouse.app, name="warehouse")
app.add_typer(quality.app, name="quality")
app.add_typer(cohort.app, name="cohort")
app.add_typer(predict.app, name="predict")
app.add_typer(share.app, name="share")
app.add_typer(jobs.app, name="jobs")
app.add_typer(spark.app, name="spark")  # the batch ingest on Spark
app.command("demo", help="Démonstration de bout en bout sur un CHU synthétique.")(demo.demo)
app.add_typer(account.app, name="account")
app.command("serve", help="Servir la plateforme web (API REST) avec uvicorn.")(serve.serve)
app.add_typer(llm.app, name="llm")
app.add_typer(collection.app, name="collection")
app.command("ask", help="Poser une question sur des collections, réponse avec sources.")(ask.ask)
app.add_typer(task.app, name="task")
app.add_typer(assistant.app, name="assistant")
app.add_typer(dictation.app, name="dictation")
app.add_typer(carbon.app, name="carbon")  # axis 4: carbon footprint
app.add_typer(stock.app, name="stock")  # axis 4: purchasing and stock
app.add_typer(forecast.app, name="forecast")  # axis 4: activity forecasts
app.add_typer(steering.app, name="pilotage")  # axis 4: steering indicators
app.add_typer(beds.app, name="beds")  # axis 4: bed needs
app.add_typer(roster.app, name="roster")  # axis 4: staff rosters


if __name__ == "__main__":
    app()
