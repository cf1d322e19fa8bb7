"""Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): each ranking gives an item
``1 / (k + rank)``, rank from 1; the sums order the fused list. It needs no score calibration
between BM25 and cosine, which live on unrelated scales; ``k = 60`` is the paper's value."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

RRF_K = 60


def rrf(rankings: Sequence[Sequence[Hashable]], k: int = RRF_K) -> list[tuple[Hashable, float]]:
    """Items of all ``rankings`` (best first) with their fused score, best first; ties keep the
    order in which items were first met."""
    scores: dict[Hashable, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    order = {item: i for i, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))
