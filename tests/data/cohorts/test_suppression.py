"""Small-cell suppression and the charts drawn from suppressed results."""

from __future__ import annotations

from pathlib import Path

from hopia.data.cohorts.charts import write_charts
from hopia.data.cohorts.suppression import HIDDEN, suppress, suppress_distribution


def test_counts_from_one_to_nine_are_hidden() -> None:
    assert [suppress(n) for n in (0, 1, 9, 10, 11)] == [0, "<10", "<10", 10, 11]
    assert suppress(4, threshold=5) == "<5" and suppress(5, threshold=5) == 5


def test_a_lone_small_cell_takes_the_next_smallest_with_it() -> None:
    # Total 125 published: with only "F" hidden, 125 - 120 would give it back.
    assert suppress_distribution({"M": 120, "F": 5, "inconnu": 0}) == {
        "M": HIDDEN,
        "F": "<10",
        "inconnu": 0,
    }
    assert suppress_distribution({"a": 50, "b": 3, "c": 2, "d": 40}) == {
        "a": 50,
        "b": "<10",
        "c": "<10",
        "d": 40,
    }
    assert suppress_distribution({"a": 50, "b": 12, "c": 3}) == {"a": 50, "b": HIDDEN, "c": "<10"}
    assert suppress_distribution({"a": 50, "b": 12}) == {"a": 50, "b": 12}


def test_charts_are_png_files_drawn_from_public_results(tmp_path: Path) -> None:
    public = {
        "attrition": [
            {"step": 0, "label": "Personnes", "kind": "population", "count": 1200},
            {"step": 1, "label": "Index", "kind": "index", "count": 150},
            {"step": 2, "label": "Dialyse", "kind": "exclusion", "count": "<10"},
        ],
        "characterisation": {
            "persons": 150,
            "sex": {"M": 140, "F": "<10", "inconnu": 0},
            "age": {"bins": {"0-17": 0, "18-29": "<10", "30-39": HIDDEN, "90+": 120}},
            "conditions": {"items": [{"code": "I50.9", "name": "IC", "persons": 150}]},
            "drugs": {"items": []},
            "measurements": {"items": [{"code": None, "name": "BNP", "persons": 99}]},
        },
    }
    written = write_charts(public, tmp_path / "charts")
    assert [p.name for p in written] == [
        "attrition.png",
        "age.png",
        "sexe.png",
        "top_conditions.png",
        "top_measurements.png",
    ]
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
