"""``hopia collection`` and ``hopia ask``: French output, passages with their offsets, the
no-model and nothing-relevant answers, errors naming the option; ``hopia assistant eval
retrieval`` on a small corpus written here (the real figures: docs/assistant/knowledge.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hopia.cli.main import app

PROTOCOL = (
    "# Hygiène des mains\n\n"
    "La friction hydro-alcoolique dure 30 secondes avant tout contact avec le patient.\n\n"
    "# Gants\n\nLes gants sont jetés après chaque soin et ne remplacent pas la friction.\n"
)


@pytest.fixture
def home(hopia_home: Path, tmp_path: Path) -> Path:
    assert CliRunner().invoke(app, ["init"]).exit_code == 0
    (tmp_path / "hygiene.md").write_text(PROTOCOL, encoding="utf-8")
    return tmp_path


def test_create_add_search_ask(home: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["collection", "create", "hygiene", "--title", "Hygiène"])
    assert made.exit_code == 0, made.output
    assert "Collection créée : hygiene" in made.output
    added = runner.invoke(app, ["collection", "add", "hygiene", str(home / "hygiene.md")])
    assert added.exit_code == 0 and "hygiene.md : ajouté" in added.output, added.output
    again = runner.invoke(app, ["collection", "add", "hygiene", str(home / "hygiene.md")])
    assert "hygiene.md : inchangé" in again.output
    found = runner.invoke(app, ["collection", "search", "durée friction", "-c", "hygiene"])
    assert found.exit_code == 0 and "30 secondes" in found.output, found.output
    start = PROTOCOL.index("# Hygiène")
    assert f"caractères {start}–" in found.output

    answer = runner.invoke(
        app, ["ask", "Combien de temps dure la friction des mains ?", "-c", "hygiene"]
    )
    assert answer.exit_code == 0, answer.output
    flat = " ".join(answer.output.split())
    assert "aucun modèle de langage n'est configuré" in flat
    assert "Sources" in flat and "hygiene.md, Hygiène des mains" in flat
    nothing = runner.invoke(
        app, ["ask", "Quelle est la recette de la tarte tatin ?", "-c", "hygiene"]
    )
    assert "Je n'ai trouvé aucun passage pertinent" in " ".join(nothing.output.split())

    from hopia.assistant.knowledge.index import document_id

    doc = document_id("hygiene.md")
    shown = runner.invoke(app, ["collection", "show", "hygiene"])
    assert shown.exit_code == 0 and doc in shown.output, shown.output
    removed = runner.invoke(app, ["collection", "remove", "hygiene", doc])
    assert removed.exit_code == 0 and "Document retiré : hygiene.md" in removed.output
    empty = runner.invoke(app, ["collection", "search", "durée friction", "-c", "hygiene"])
    assert "Aucun passage trouvé." in empty.output


def test_unknown_collection_and_bad_name(home: Path) -> None:
    runner = CliRunner()
    unknown = runner.invoke(app, ["ask", "Une question ?", "-c", "absente"])
    assert unknown.exit_code == 2 and "collection « absente » introuvable" in unknown.output
    bad = runner.invoke(app, ["collection", "create", "Nom Invalide"])
    assert bad.exit_code == 2 and "NOM" in bad.output, bad.output


def test_eval_retrieval_on_a_small_corpus(home: Path) -> None:
    corpus = home / "corpus"
    corpus.mkdir()
    (corpus / "hygiene.md").write_text(PROTOCOL, encoding="utf-8")
    (corpus / "transfusion.txt").write_text(
        "1. Transfusion\nLe contrôle ultime au lit du malade vérifie la compatibilité ABO.\n",
        encoding="utf-8",
    )
    lines = [
        {
            "id": "q1",
            "question": "durée de la friction hydro-alcoolique",
            "document": "hygiene.md",
            "answer": "dure 30 secondes",
        },
        {
            "id": "q2",
            "question": "vérifier la compatibilité ABO avant transfusion",
            "document": "transfusion.txt",
            "answer": "compatibilité ABO",
        },
        {"id": "off", "question": "horaires de la cafétéria", "document": None, "answer": None},
    ]
    questions = home / "questions.jsonl"
    questions.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    result = CliRunner().invoke(
        app,
        ["assistant", "eval", "retrieval", "--questions", str(questions), "--corpus", str(corpus)],
    )
    assert result.exit_code == 0, result.output
    # two questions, each answered by the first passage of a two-document corpus: 1.0 everywhere
    assert "2 questions (+ 1 hors sujet)" in " ".join(result.output.split())
    rows = [line for line in result.output.splitlines() if "hybrid" in line or "bm25" in line]
    assert rows and all("1.000" in r for r in rows), result.output


def test_ask_with_a_backend_goes_through_the_gateway_and_its_guard(
    home: Path, hopia_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a backend configured, ``hopia ask`` generates through the gateway: the backend (a
    real HTTP server on localhost, marked not local, that records what it gets and echoes it)
    receives the passages and a pseudonymised question, the call is counted in the usage table
    and audited, and the answer is marked as generated with its citations."""
    from hopia.platform.config import get_settings
    from hopia.platform.warehouse import Warehouse
    from tests.assistant.echo_server import echo_server

    runner = CliRunner()
    assert runner.invoke(app, ["collection", "create", "hygiene"]).exit_code == 0
    assert (
        runner.invoke(app, ["collection", "add", "hygiene", str(home / "hygiene.md")]).exit_code
        == 0
    )
    question = "Pour Mme Germaine DUPONTEL, combien de temps dure la friction des mains ?"
    with echo_server() as server:
        backend = {"name": "ailleurs", "type": "openai", "base_url": server.url, "local": False}
        monkeypatch.setenv("HOPIA_ASSISTANT__BACKENDS", json.dumps([backend]))
        get_settings.cache_clear()
        answer = runner.invoke(app, ["ask", question, "-c", "hygiene"])
    assert answer.exit_code == 0, answer.output
    sent = " ".join(server.texts())
    assert "30 secondes" in sent  # the passage reached the model
    assert "DUPONTEL" not in sent  # the patient's name did not
    assert "aucun modèle de langage n'est configuré" not in " ".join(answer.output.split())
    wh = Warehouse(f"duckdb:///{hopia_home / 'warehouse.duckdb'}")
    try:
        with wh.begin() as conn:
            usage = conn.exec_driver_sql(
                "SELECT task, backend, guarded FROM hopia_meta.llm_usage"
            ).fetchall()
            actions = [
                r[0] for r in conn.exec_driver_sql("SELECT action FROM hopia_meta.audit_log")
            ]
    finally:
        wh.close()
    assert [tuple(u) for u in usage] == [("assistant.ask", "ailleurs", True)]
    assert "assistant.ask" in actions
