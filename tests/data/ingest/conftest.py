"""Ingest test fixtures: real files written into ``tmp_path`` at test time, pipelines built from
fresh settings, and the models run in the test process unless a test asks for the worker."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import Image

from hopia.data.ingest.pipeline import IngestPipeline
from hopia.platform.config import get_settings
from hopia.platform.exceptions import SourceError
from hopia.platform.warehouse import Warehouse
from hopia.services.ingest import build_pipeline
from tests.conftest import use_in_process_models
from tests.platform.pg import engine_warehouse

CR_TEXT = (
    "Compte rendu d'hospitalisation",
    "Mme Dupont, 38 ans, est admise pour une fièvre à 39,5 °C évoluant depuis trois jours.",
    "Antécédents : asthme, appendicectomie à l'âge de 12 ans.",
)


@pytest.fixture(autouse=True)
def _in_process_models(monkeypatch: pytest.MonkeyPatch) -> None:
    use_in_process_models(monkeypatch)


@pytest.fixture
def model_worker(_in_process_models: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt back into the models worker (the default configuration) for the tests about it."""
    monkeypatch.setenv("HOPIA_DATA__PSEUDO__MODEL_WORKER", "true")
    monkeypatch.setenv("HOPIA_DATA__NLP__NER_WORKER", "true")
    get_settings.cache_clear()


def build(wh: Warehouse) -> IngestPipeline:
    """The configured pipeline on ``wh``, from the settings of the environment as it is now (a
    front end reads them once and passes them down)."""
    return build_pipeline(get_settings(), wh)


@pytest.fixture(params=["duckdb", "postgres"])
def wh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    """The same pipeline code against the embedded default and a real PostgreSQL server (the
    PostgreSQL run skips, saying so, when no server answers)."""
    with engine_warehouse(request.param, tmp_path) as warehouse:
        yield warehouse


def pdf_bytes(pages: list[str] | None = None, *, image_only: bool = False) -> bytes:
    """A PDF built with fpdf2's core Helvetica font (latin-1: French accents are fine)."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for page in pages or []:
        pdf.add_page()
        pdf.multi_cell(0, 6, page)
    if image_only:  # what a scanner produces: one picture per page, no text layer
        picture = io.BytesIO()
        Image.new("L", (64, 64), color=200).save(picture, format="PNG")
        pdf.add_page()
        pdf.image(picture, x=10, y=10, w=100)
    if not pages and not image_only:
        pdf.add_page()
    return bytes(pdf.output())


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """``write(name, content)``: a file in ``tmp_path`` (str content is written as UTF-8)."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_bytes(content.encode("utf-8"))
        else:
            path.write_bytes(content)
        return path

    return _write


def assert_ingest_error(
    excinfo: pytest.ExceptionInfo[SourceError], reason: str, path: Path
) -> None:
    """The error names the file and gives the expected (French) reason."""
    assert reason in excinfo.value.reason
    assert str(path) in str(excinfo.value)
    assert excinfo.value.path == str(path)
