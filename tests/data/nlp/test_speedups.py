"""The speed-ups of EDS-NLP's pipes change nothing in what the pipeline finds (issue 4, item 9)."""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest
import regex

from hopia.data.nlp import pipeline as P
from hopia.data.nlp.speedups import (
    TEXT_CACHE_SIZE,
    PrefilteredPattern,
    enlarge_text_cache,
    prefilter,
    split_leading_assertions,
)
from hopia.platform.config import get_settings

DATES = (
    "Hospitalisé depuis le 12 mars 2020, sortie prévue à partir du 3 avril 2020 à 14h30. "
    "Vu du 01/02/2019 au 03/02/2019 puis le 1er janvier 2021 ; bilan le 2020-03-12. "
    "Il y a 3 jours, douleur ; pendant 2 semaines ; depuis 5 ans ; le 3 à 14h. "
    "Né le 1.5.1950, TA 12/8, score 15/20, vingt et un mars deux mille vingt ; "
    "jusqu'au 15 déc. 2022 ; en 03/2021 ; l'an dernier ; avant-hier ; dans 2 mois. "
    "Rdv 31/12/99 et 15-06-2018, ECG 12.5.18 ; HbA1c 7,2 % le 4/5."
)


def test_split_keeps_flags_and_skips_classes_and_escapes() -> None:
    flags, assertions, rest = split_leading_assertions(r"(?i)(?<=\b(du|le)\b.{,3})?(?<![(\])a])\d+")
    assert (flags, assertions, rest) == ("(?i)", r"(?<=\b(du|le)\b.{,3})?(?<![(\])a])", r"\d+")
    assert split_leading_assertions(r"\d+(?<=5)") == ("", "", r"\d+(?<=5)")
    assert split_leading_assertions(r"(?=a)??b") == ("", "", r"(?=a)??b")  # lazy: left whole


@pytest.mark.parametrize(
    ("source", "text"),
    [
        (r"(?<=x)\w+", "yabxcd xef"),  # candidates rejected, then one inside the rejected run
        (r"(?<!\d)\d{2}(?!\d)", "123 45 6 78x 9999 10"),
        (r"(?<=\b(depuis|du)\b.{,3})?(?<!\d)(?P<d>\d+)\s+mars", "depuis le 12 mars, 3 mars"),
        (r"(?<![a-z])ab", "xabab ab"),
    ],
)
def test_prefiltered_finditer_is_finditer(source: str, text: str) -> None:
    for module in (re, regex):
        try:
            full = module.compile(source)
        except module.error:  # variable-width look-behind: regex only
            continue
        fast = prefilter(full)
        assert isinstance(fast, PrefilteredPattern)
        expected = [(m.span(), m.groups(), m.groupdict()) for m in full.finditer(text)]
        got = [(m.span(), m.groups(), m.groupdict()) for m in fast.finditer(text)]
        assert got == expected
        assert fast.pattern == source and fast.search(text).span() == full.search(text).span()


def test_patterns_that_could_change_are_left_alone() -> None:
    plain = regex.compile(r"\d+")
    assert prefilter(plain) is plain  # nothing to strip
    backref = regex.compile(r"(?<=(a))b\1")
    assert prefilter(backref) is backref
    named = regex.compile(r"(?<=(?P<x>a))b(?P=x)")
    assert prefilter(named) is named
    fast = prefilter(regex.compile(r"(?<=a)b"))
    assert prefilter(fast) is fast
    assert [m.span() for m in pickle.loads(pickle.dumps(fast)).finditer("abab")] == [(1, 2), (3, 4)]


def test_every_eds_date_pattern_matches_identically() -> None:
    from edsnlp.matchers.regex import RegexMatcher

    raw = P.build_nlp([("eds.dates", "dates", {})], speedups=False)
    matcher = raw.get_pipe("dates").regex_matcher
    assert isinstance(matcher, RegexMatcher)
    text = DATES.lower()
    wrapped = 0
    for _, patterns, *_ in matcher.regex:
        for pattern in patterns:
            fast = prefilter(pattern)
            wrapped += fast is not pattern
            expected = [(m.span(), m.groupdict()) for m in pattern.finditer(text)]
            assert [(m.span(), m.groupdict()) for m in fast.finditer(text)] == expected
    assert wrapped >= 15


def test_text_cache_is_enlarged_once() -> None:
    from edsnlp.utils import doc_to_text

    enlarge_text_cache()
    first = doc_to_text.aggregate_tokens
    assert first.cache_info().maxsize >= TEXT_CACHE_SIZE
    enlarge_text_cache()
    assert doc_to_text.aggregate_tokens is first


def _everything(doc) -> list:  # noqa: ANN001
    keys = ("negation", "hypothesis", "family", "history", "reported_speech", "date", "value")
    out = []
    for group in sorted(doc.spans):
        for s in doc.spans[group]:
            found = {k: str(getattr(s._, k)) for k in keys if s.has_extension(k)}
            out.append((group, s.start_char, s.end_char, s.label_, s.kb_id_, json.dumps(found)))
    return out


def _texts() -> list[str]:
    from hopia.data.synth import generate

    return [d.text for d in generate(6, seed=5).documents][:60] + [DATES]


_RAW_IN_A_FRESH_PROCESS = """
import json
from hopia.data.nlp import pipeline as P
from hopia.platform.config import get_settings
from tests.data.nlp.test_speedups import _everything, _texts
raw = P.build_nlp(speedups=False, cache_dir=get_settings().cache_dir)
print(json.dumps([_everything(d) for d in raw.pipe(_texts(), batch_size=32)]))
"""


@pytest.mark.slow
def test_pipeline_output_is_unchanged_in_batches() -> None:
    # The raw pipeline is built in a fresh interpreter: EDS-NLP's score pipes (eds.sofa...)
    # change their default patterns in place when built, so a second build in a process that
    # already built the pipeline (a cold cache) fails validation.
    result = subprocess.run(
        [sys.executable, "-c", _RAW_IN_A_FRESH_PROCESS],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parents[3],
        env={**os.environ, "TQDM_DISABLE": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    expected = [[tuple(x) for x in doc] for doc in json.loads(result.stdout.splitlines()[-1])]
    assert sum(map(len, expected)) > 500
    assert any(g == "dates" for doc in expected for g, *_ in doc)
    fast = P.get_nlp(cache_dir=get_settings().cache_dir)
    assert [_everything(d) for d in fast.pipe(_texts(), batch_size=32)] == expected
