"""FrenchMedMCQA evaluation (``hopia assistant eval mcqa``): answer parsing, the paper's scores
on made-up items, the seeded sample, the prompt; the real test split when ../shared is there;
an end-to-end run with the plumbing model when llama.cpp is installed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hopia.assistant import mcqa
from hopia.cli.main import app
from tests.conftest import shared_path


def _question(qid: str, correct: str) -> dict[str, object]:
    return {
        "id": qid,
        "question": f"Question {qid} : cocher la (les) proposition(s) exacte(s).",
        "answers": {k: f"proposition {k}" for k in "abcde"},
        "correct_answers": list(correct),
        "subject_name": "pharmacie",
        "nbr_correct_answers": len(correct),
    }


@pytest.mark.parametrize(
    ("answer", "letters"),
    [
        ("Réponse : A, C", "ac"),
        ("Réponse : A et C", "ac"),
        ("réponses exactes : b ; d", "bd"),
        ("Réponse : C — car le pH du suc pancréatique est alcalin", "c"),
        ("La réponse correcte est B.", "b"),
        ("B", "b"),
        ("a, c, e", "ace"),
        ("(a) et (c)", "ac"),
        ("Les propositions exactes sont A et D.", "ad"),
        ("Réponse : il a raison, C", "c"),  # "a" the French verb is not a letter
        ("A. Le suc gastrique", "a"),
    ],
)
def test_parse_letters(answer: str, letters: str) -> None:
    assert mcqa.parse_letters(answer) == frozenset(letters)


@pytest.mark.parametrize("answer", ["", "Je ne sais pas.", "Il a raison", "Aucune idée, désolé"])
def test_an_answer_without_letters_is_unparseable(answer: str) -> None:
    assert mcqa.parse_letters(answer) is None


def test_scores_are_the_papers_emr_and_hamming() -> None:
    gold = frozenset("ac")
    assert mcqa.hamming(frozenset("ac"), gold) == 1.0
    assert mcqa.hamming(frozenset("a"), gold) == 0.5  # 1 right of 2 in the union
    assert mcqa.hamming(frozenset("abc"), gold) == pytest.approx(2 / 3)
    assert mcqa.hamming(frozenset("d"), gold) == 0.0
    assert mcqa.hamming(None, gold) == 0.0  # unparseable: wrong

    answers = ["Réponse : A", "Réponse : A", "je ne sais pas", "Réponse : B"]
    report = mcqa.McqaReport("fake", "made-up", 4, 13, None)
    questions = mcqa.load_questions(_write(Path(os.environ["HOPIA_HOME"]), "ac", "a", "b", "b"))
    replies = iter(answers)
    for q in questions:
        report.answers.append(mcqa.ask(q, lambda s, u: (next(replies), 10, 3), None))
    assert report.emr == 0.5  # q2 and q4 exact
    assert report.hamming_score == pytest.approx((0.5 + 1 + 0 + 1) / 4)
    assert report.unparseable == 1
    data = report.to_json()
    assert data["answers"][2]["predicted"] is None and data["answers"][2]["exact"] is False


def _write(folder: Path, *correct: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "test.json"
    items = [_question(f"q{i}", c) for i, c in enumerate(correct, 1)]
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    return path


def test_sample_is_fixed_by_the_seed_and_keeps_the_file_order(tmp_path: Path) -> None:
    questions = mcqa.load_questions(_write(tmp_path, *["a"] * 50))
    first = mcqa.sample(questions, 10, 13)
    assert [q.id for q in first] == [q.id for q in mcqa.sample(questions, 10, 13)]
    assert [q.id for q in first] != [q.id for q in mcqa.sample(questions, 10, 14)]
    order = [int(q.id[1:]) for q in first]
    assert order == sorted(order) and len(set(order)) == 10
    assert len(mcqa.sample(questions, None, 13)) == 50


def test_prompt_is_french_lists_the_letters_and_the_passages() -> None:
    question = mcqa.load_questions(_write(Path(os.environ["HOPIA_HOME"]), "bd"))[0]
    system, user = mcqa.prompt(question, ["Le suc pancréatique est alcalin."])
    assert "QCM" in system
    assert "A. proposition a" in user and "E. proposition e" in user
    assert "Réponse :" in user and "[1] Le suc pancréatique est alcalin." in user
    assert "[1]" not in mcqa.prompt(question)[1]


def test_a_malformed_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"question": "x", "answers": {"a": "y"}}]), encoding="utf-8")
    with pytest.raises(ValueError, match="question 1"):
        mcqa.load_questions(bad)
    bad.write_text(json.dumps([_question("q", "f")]), encoding="utf-8")
    with pytest.raises(ValueError, match="a-e"):
        mcqa.load_questions(bad)


def test_the_real_test_split_reads() -> None:
    path = shared_path("llm-eval", "frenchmedmcqa", "test.json")
    questions = mcqa.load_questions(path)
    assert len(questions) == 622
    assert all(1 <= len(q.correct) <= 5 and len(q.options) == 5 for q in questions)


def test_cli_errors_name_the_option(hopia_home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    missing = runner.invoke(
        app, ["assistant", "eval", "mcqa", "--questions", str(tmp_path / "absent.json")]
    )
    assert missing.exit_code == 2 and "--questions" in missing.output, missing.output
    path = _write(tmp_path, "a")
    unknown = runner.invoke(
        app, ["assistant", "eval", "mcqa", "--questions", str(path), "--model", "gpt-9"]
    )
    assert unknown.exit_code == 2 and "modèle embarqué inconnu" in unknown.output, unknown.output


@pytest.mark.slow
def test_end_to_end_with_the_plumbing_model(hopia_home: Path, tmp_path: Path) -> None:
    from tests.assistant.llm_helpers import (
        PLUMBING_MODEL,
        recorded_calls,
        require_llama,
        require_model_packages,
    )

    require_llama()
    require_model_packages()
    path = _write(tmp_path, "a", "bc", "e")
    runner = CliRunner(env={"COLUMNS": "300"})
    assert runner.invoke(app, ["init"]).exit_code == 0
    out = tmp_path / "mcqa.json"
    result = runner.invoke(
        app,
        ["assistant", "eval", "mcqa", "--questions", str(path), "--model", PLUMBING_MODEL,
         "--threads", "1", "--output", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["model"] == PLUMBING_MODEL and data["questions"] == 3
    assert 0 <= data["emr"] <= data["hamming"] <= 1
    assert all(a["completion_tokens"] > 0 for a in data["answers"])
    assert data["energy_wh"] > 0 and data["retrieval"] is None
    assert "EMR" in result.output and "score de Hamming" in result.output
    # through the gateway: one usage row and one audit record per question, the tokens the
    # report counts
    rows, audited = recorded_calls("eval.mcqa")
    assert len(rows) == 3 and len(audited) == 3
    assert sum(r.prompt_tokens for r in rows) == sum(a["prompt_tokens"] for a in data["answers"])
    assert sorted(r.completion_tokens for r in rows) == sorted(
        a["completion_tokens"] for a in data["answers"]
    )
    assert {d["purpose"] for d in audited} == {"évaluation FrenchMedMCQA"}
