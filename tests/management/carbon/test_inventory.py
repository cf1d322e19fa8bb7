"""The inventory contract: units converted to the factor's (gas PCS → PCI, bottles and
millilitres → kg, litres of N2O gas → kg), CSV and YAML, and French errors naming the file and
the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from hopia.management.carbon import example_inventory, load_factors, load_inventory
from hopia.platform.exceptions import InvalidRequestError

TABLE = load_factors()
HEADER = "post;quantity;unit;period;site\n"


def write(tmp_path: Path, body: str, name: str = "inventaire.csv") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def test_units_become_the_factors_units(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "energie.gaz_naturel;1 000;kWh PCS;2025;Nord\n"
        + "energie.gaz_naturel;2;MWh PCI;2025;Nord\n"
        + "anesthesie.desflurane;1;flacon;2025;Bloc\n"
        + "anesthesie.sevoflurane;100;ml;2025;Bloc\n"
        + "anesthesie.protoxyde_azote;1;m3;2025;Bloc\n"
        + "Électricité du réseau (mix moyen France);12,5;MWh;2025-03;Sud\n"
        + "achats.medicaments;1,5;k€;2025;\n",
    )
    lines = load_inventory(TABLE, path).lines
    amounts = [line.amount for line in lines]
    assert amounts == pytest.approx([901.0, 2000.0, 0.240 * 1.465, 0.1 * 1.52, 1.977, 12500, 1500])
    assert lines[5].factor_id == "energie.electricite"
    assert lines[0].where == f"{path}, ligne 2"


def test_an_unknown_unit_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER + "energie.electricite;10;kWh;2025;A\nenergie.electricite;1;gallon;2025;A\n",
    )
    with pytest.raises(InvalidRequestError) as caught:
        load_inventory(TABLE, path)
    assert caught.value.message.startswith(f"{path}, ligne 3 : unité inconnue : « gallon »")
    assert caught.value.fields == ("inventory",)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("energie.electricite;10;kg;2025;A", "unité « kg » incompatible avec le poste"),
        ("energie.gaz_naturel;10;kWh;2025;A", "précisez le pouvoir calorifique"),
        ("energie.electricite;10;kWh PCS;2025;A", "sans PCS ni PCI"),
        (
            "energie.electricte;10;kWh;2025;A",
            "poste inconnu : « energie.electricte » (vouliez-vous",
        ),
        ("energie.electricite;dix;kWh;2025;A", "quantité illisible"),
        ("energie.electricite;10;kWh;l'an dernier;A", "période illisible"),
        ("achats.medicaments;-3;€;2025;A", "quantité négative"),
    ],
)
def test_each_error_says_what_is_wrong(tmp_path: Path, line: str, expected: str) -> None:
    path = write(tmp_path, HEADER + line + "\n")
    with pytest.raises(InvalidRequestError, match="ligne 2 : ") as caught:
        load_inventory(TABLE, path)
    assert expected in caught.value.message


def test_yaml_lines_carry_their_line_numbers_and_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "site: CHU\nperiod: '2025'\nlines:\n"
        "  - {post: energie.electricite, quantity: 1000, unit: kWh}\n"
        "  - post: anesthesie.protoxyde_azote\n    quantity: 1000\n    unit: l\n"
        "  - {post: energie.electricite, quantity: 3, unit: barils}\n",
        "inventaire.yaml",
    )
    with pytest.raises(InvalidRequestError, match=r"inventaire\.yaml, ligne 8 : unité inconnue"):
        load_inventory(TABLE, path)
    path.write_text(path.read_text().rsplit("  - {", 1)[0], encoding="utf-8")
    inventory = load_inventory(TABLE, path)
    assert [line.site for line in inventory.lines] == ["CHU", "CHU"]
    assert inventory.lines[1].amount == pytest.approx(1.977)
    assert inventory.lines[1].where.endswith("ligne 5")
    assert inventory.period()[0].isoformat() == "2025-01-01"


def test_a_missing_column_and_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError, match="ligne 1 : colonne.s. absente.s. : unit"):
        load_inventory(TABLE, write(tmp_path, "post;quantity\nenergie.electricite;1\n"))
    with pytest.raises(InvalidRequestError, match="fichier introuvable"):
        load_inventory(TABLE, tmp_path / "absent.csv")


def test_the_example_inventory_reads() -> None:
    inventory = load_inventory(TABLE, example_inventory())
    assert len(inventory.lines) >= 20
    assert {line.factor_id.split(".")[0] for line in inventory.lines} >= {
        "energie", "anesthesie", "transport", "achats", "dechets", "alimentation",
    }  # fmt: skip
