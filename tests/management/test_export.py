"""Dashboard tables as CSV and XLSX: read back with the libraries a manager's tools use."""

from __future__ import annotations

import io

import pandas as pd
import pytest

pytest.importorskip("openpyxl", reason="l'option « management » n'est pas installée")

from hopia.management.export import sheet_name, to_csv, to_xlsx  # noqa: E402


def test_csv_reads_back_in_a_french_spreadsheet_shape() -> None:
    frame = pd.DataFrame({"service": ["Réanimation", "Cardiologie"], "lits_p95": [12.5, 30.0]})
    data = to_csv(frame)
    assert data.startswith("\ufeff".encode())
    back = pd.read_csv(io.BytesIO(data), sep=";", encoding="utf-8-sig")
    pd.testing.assert_frame_equal(back, frame)


def test_xlsx_has_one_sheet_per_table_with_valid_distinct_names() -> None:
    long = "Besoins en lits / service [P95] sur quatorze jours"
    tables = {
        long: pd.DataFrame({"a": [1, 2]}),
        long + " bis": pd.DataFrame({"b": ["x"]}),
        "stock": pd.DataFrame({"article": ["gants"], "alerte": ["rupture"]}),
    }
    sheets = pd.read_excel(io.BytesIO(to_xlsx(tables)), sheet_name=None, engine="openpyxl")
    names = list(sheets)
    assert len(names) == 3 and len({n.lower() for n in names}) == 3
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
    assert sheets["stock"].to_dict("records") == [{"article": "gants", "alerte": "rupture"}]
    assert sheets[names[0]]["a"].tolist() == [1, 2]


def test_sheet_name_never_empty_and_export_refuses_nothing() -> None:
    assert sheet_name("[]") == "__"
    assert sheet_name("") == "table"
    with pytest.raises(ValueError):
        to_xlsx({})
