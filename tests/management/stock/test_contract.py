"""The CSV contract: what is accepted, and French errors naming the file, the line, the reason."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hopia.management.stock import StockDataError, read_items, read_movements, read_orders

ITEMS = """item_id,label,unit,unit_cost,lead_time_days,order_cost,holding_rate,ven,shelf_life_days
MED1,Paracétamol 500 mg comprimé,comprimé,0.02,5,40,0.2,V,1095
DM1,Compresse stérile 10 × 10 cm,sachet,0.12,7,30,0.2,n,
"""
MOVES = """date,item_id,type,quantity,lot,expiry_date
2025-01-02,MED1,receipt,100,L1,2026-06-30
2025-01-03,MED1,issue,30,,
2025-01-03,DM1,receipt,50,,
2025-01-04,MED1,adjustment,-2,L1,
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_pair_reads_typed(tmp_path: Path) -> None:
    items = read_items(_write(tmp_path, "items.csv", ITEMS))
    assert list(items["ven"]) == ["V", "N"]  # lower case accepted
    assert items["shelf_life_days"].isna().tolist() == [False, True]
    moves = read_movements(_write(tmp_path, "movements.csv", MOVES), items)
    assert list(moves["delta"]) == [100.0, -30.0, 50.0, -2.0]
    assert moves["expiry_date"][0] == pd.Timestamp("2026-06-30")


def test_semicolons_and_decimal_commas_as_a_french_spreadsheet_writes(tmp_path: Path) -> None:
    text = ITEMS.replace(",", ";").replace("0.02", "0,02").replace("0.2;", "0,2;")
    items = read_items(_write(tmp_path, "items.csv", "\ufeff" + text))
    assert items["unit_cost"][0] == 0.02 and items["holding_rate"][0] == 0.2


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("MED1,Paracétamol", "DM1,Paracétamol", "ligne 3 : item_id « DM1 » déjà déclaré"),
        ("0.02,5,40", "gratuit,5,40", "ligne 2 : unit_cost « gratuit » n'est pas un nombre"),
        ("0.02,5,40", "0.02,2.5,40", "ligne 2 : lead_time_days doit être un nombre entier"),
        ("0.2,V", "0.2,X", "ligne 2 : ven « X » n'est pas V, E ou N"),
        ("0.12,7", "-1,7", "ligne 3 : unit_cost doit être > 0"),
    ],
)
def test_bad_items_name_file_line_and_reason(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    with pytest.raises(StockDataError) as info:
        read_items(_write(tmp_path, "items.csv", ITEMS.replace(old, new, 1)))
    assert info.value.message.startswith("items.csv : ")
    assert expected in info.value.message, info.value.message


def test_missing_columns_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StockDataError, match="colonne\\(s\\) manquante\\(s\\) : ven"):
        read_items(_write(tmp_path, "items.csv", ITEMS.replace(",ven", ",classe")))
    with pytest.raises(StockDataError, match="fichier introuvable"):
        read_items(tmp_path / "absent.csv")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("2025-13-01,MED1,issue,3,,", "ligne 6 : date « 2025-13-01 » n'est pas une date"),
        ("2025-01-05,MED9,issue,3,,", "ligne 6 : item_id « MED9 » absent de items.csv"),
        ("2025-01-05,MED1,vol,3,,", "ligne 6 : type « vol » inconnu"),
        ("2025-01-05,MED1,issue,-3,,", "ligne 6 : quantity doit être > 0"),
        ("2025-01-05,MED1,adjustment,0,,", "ligne 6 : ajustement nul"),
        ("2025-01-05,MED1,receipt,5,L1,2027-01-01", "lot « L1 » reçu avec deux dates"),
    ],
)
def test_bad_movements_name_file_line_and_reason(tmp_path: Path, line: str, expected: str) -> None:
    items = read_items(_write(tmp_path, "items.csv", ITEMS))
    with pytest.raises(StockDataError) as info:
        read_movements(_write(tmp_path, "movements.csv", MOVES + line + "\n"), items)
    assert info.value.message.startswith("movements.csv : ")
    assert expected in info.value.message, info.value.message


def test_many_problems_are_counted_not_all_listed(tmp_path: Path) -> None:
    items = read_items(_write(tmp_path, "items.csv", ITEMS))
    bad = "".join(f"2025-01-05,X{i},issue,1,,\n" for i in range(25))
    with pytest.raises(StockDataError) as info:
        read_movements(_write(tmp_path, "movements.csv", MOVES + bad), items)
    assert info.value.details["count"] == 25 and "et 15 autre(s) problème(s)" in str(info.value)


def test_orders(tmp_path: Path) -> None:
    items = read_items(_write(tmp_path, "items.csv", ITEMS))
    orders = read_orders(
        _write(tmp_path, "orders.csv", "item_id,quantity,expected_date\nMED1,40,2025-01-10\n"),
        items,
    )
    assert orders["quantity"][0] == 40
    with pytest.raises(StockDataError, match="ligne 2 : expected_date « demain »"):
        read_orders(
            _write(tmp_path, "orders.csv", "item_id,quantity,expected_date\nMED1,4,demain\n"),
            items,
        )
