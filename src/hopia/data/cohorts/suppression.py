"""Small-cell suppression: counts from 1 to 9 leave the research space as ``"<10"``.

Zero is shown: it discloses no one. In a distribution whose total is published, a single
suppressed cell could be recovered by subtraction, so the next smallest cell is hidden too, shown
as ``"*"`` (complementary suppression). Attrition differences are suppressed like counts, but
a reader can still subtract two published steps: publish attrition of small cohorts with care.
"""

from __future__ import annotations

from collections.abc import Mapping

THRESHOLD = 10
HIDDEN = "*"  # a cell of 10 or more, hidden so that a small one cannot be recomputed
Cell = int | str


def suppress(n: int, threshold: int = THRESHOLD) -> Cell:
    """``n``, or ``"<threshold"`` when ``0 < n < threshold``."""
    return f"<{threshold}" if 0 < n < threshold else int(n)


def is_small(n: int, threshold: int = THRESHOLD) -> bool:
    return 0 < n < threshold


def suppress_distribution(counts: Mapping[str, int], threshold: int = THRESHOLD) -> dict[str, Cell]:
    """Suppress small cells, then one more cell when only one would be hidden."""
    small = {k for k, n in counts.items() if is_small(n, threshold)}
    extra: set[str] = set()
    if len(small) == 1:
        shown = sorted((n, k) for k, n in counts.items() if k not in small and n > 0)
        extra = {shown[0][1]} if shown else set()
    return {
        k: f"<{threshold}" if k in small else HIDDEN if k in extra else int(n)
        for k, n in counts.items()
    }
