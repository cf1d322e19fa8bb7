"""How the CLI phrases a domain error: the message, then the options of the fields concerned."""

from __future__ import annotations

import pytest
import typer

from hopia.cli._common import handle_errors, option_names, render
from hopia.platform.exceptions import ConflictError, HopiaError, ReasonRequiredError
from hopia.platform.extras import missing_extra


def test_fields_become_the_commands_options() -> None:
    assert option_names(("reason", "max_suppression")) == ["--reason", "--max-suppression"]
    assert option_names(("note_id",), {"note_id": "--note"}) == ["--note"]
    err = ConflictError("dossier non vide", fields=("out", "force"))
    assert render(err) == "dossier non vide [option(s) : --out, --force]"
    assert render(HopiaError("entrepôt vide")) == "entrepôt vide"


def test_handle_errors_exits_2_with_the_remedy(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as info, handle_errors():
        raise ReasonRequiredError("motif obligatoire", fields=("reason",))
    assert info.value.exit_code == 2
    assert "motif obligatoire [option(s) : --reason]" in capsys.readouterr().err


def test_a_missing_optional_part_says_what_to_install(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit), handle_errors():
        raise ModuleNotFoundError("No module named 'edsnlp'", name="edsnlp")
    assert "pip install 'hopia[data]'" in capsys.readouterr().err.replace("\n", "")
    assert missing_extra(ModuleNotFoundError("x", name="psycopg2.extras")).details == {
        "module": "psycopg2",
        "extra": "postgres",
    }
    # Any other missing module is a bug, not an installation choice: said as such (exit 3).
    capsys.readouterr()
    with pytest.raises(typer.Exit) as done, handle_errors():
        raise ModuleNotFoundError("No module named 'nothere'", name="nothere")
    assert done.value.exit_code == 3
    assert "Erreur interne inattendue" in capsys.readouterr().err


def test_an_internal_error_shows_no_quoted_input(capsys: pytest.CaptureFixture[str]) -> None:
    """A bug's message may quote the patient text it choked on: the quote is never printed."""
    import typer

    from hopia.cli._common import handle_errors

    with pytest.raises(typer.Exit) as exit_, handle_errors():
        raise ValueError("could not convert string to float: 'Dupont'")
    assert exit_.value.exit_code == 3
    err = capsys.readouterr().err
    assert "Erreur interne inattendue" in err and "Dupont" not in err
