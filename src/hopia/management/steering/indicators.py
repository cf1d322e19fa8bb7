"""Steering indicators per service and month, every published count protected.

From the stays of :func:`.stays.read_stays` (and their main diagnosis chapter):

- admissions (*entrées*): stays admitted in the month (``visit_start_date``);
- discharges (*sorties*): stays discharged in the month (``visit_end_date``);
- length of stay of the discharged stays, in days (discharge date minus admission date, 0 for a
  same-day stay): mean, median and 90th percentile (linear interpolation);
- 30-day readmissions: an admitted stay is a readmission when the same person was discharged
  from another stay of the counted kinds, in any service, 1 to 30 days before its admission day
  (that stay admitted strictly earlier); a discharge on the admission day itself is a transfer,
  not a readmission. Counted in the service and month of the readmission; the rate is
  readmissions over admissions of the same cell;
- case mix: admissions of the window by CIM-10 chapter of their main diagnosis, per service.

Each count table (services × months, chapters × services) is protected by
:func:`.suppression.protect` with its margins; a length of stay or a rate is shown only where
the counts it derives from are published as numbers, and a trend (month over month, same month
of the previous year) only between two published numbers of the same table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from . import chapters as ch
from .stays import READMISSION_DAYS
from .suppression import TOTAL, Protected, protect

UNKNOWN_SITE = "Service non renseigné"
NOT_SHOWN = "n.d."  # non disponible: derived from a hidden count
STABLE = 0.02  # a relative change below 2 % reads "stable"


@dataclass
class Indicators:
    """The protected tables of one window; ``tables`` holds what is published."""

    first: date
    last: date
    threshold: int
    months: list[str]
    sites: dict[int, str]
    admissions: Protected
    discharges: Protected
    readmissions: Protected
    case_mix: Protected
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)


def month_range(first: date, last: date) -> list[str]:
    return [str(p) for p in pd.period_range(first, last, freq="M")]


def flag_readmissions(stays: pd.DataFrame, days: int = READMISSION_DAYS) -> pd.Series:
    """Whether each stay (by index) is a readmission (module docstring's definition)."""
    s = stays[["person_id", "start"]].reset_index(names="_i")
    p = stays.loc[stays["end"].notna(), ["person_id", "start", "end"]]
    pairs = s.merge(p, on="person_id", suffixes=("", "_prev"))
    gap = (pairs["start"] - pairs["end"]).dt.days
    hit = (pairs["start_prev"] < pairs["start"]) & (gap >= 1) & (gap <= days)
    flagged = set(pairs.loc[hit, "_i"])
    return pd.Series(stays.index.isin(flagged), index=stays.index)


def _grid(frame: pd.DataFrame, rows: str, cols: str, index: list, columns: list) -> pd.DataFrame:
    counts = frame.groupby([rows, cols]).size().unstack(fill_value=0)
    return counts.reindex(index=index, columns=columns, fill_value=0).astype("int64")


def _los_table(
    discharged: pd.DataFrame, published: Protected, sites: list[int], months: list[str]
) -> pd.DataFrame:
    """Mean, median and P90 length of stay per cell, where its discharges are published."""
    out = pd.DataFrame(NOT_SHOWN, index=[*sites, TOTAL], columns=[*months, TOTAL], dtype=object)
    d = discharged[["site", "end_month", "los"]]
    frames = [
        d,
        d.assign(site=TOTAL),
        d.assign(end_month=TOTAL),
        d.assign(site=TOTAL, end_month=TOTAL),
    ]
    both = pd.concat([f.astype({"site": object}) for f in frames], ignore_index=True)
    stats = both.groupby(["site", "end_month"])["los"].agg(
        mean="mean", median="median", p90=lambda x: np.percentile(x, 90)
    )
    for r in out.index:
        for c in out.columns:
            n = published.published(r, c)
            if n is None:
                continue
            if n == 0 or (r, c) not in stats.index:
                out.at[r, c] = ""
                continue
            row = stats.loc[(r, c)]
            out.at[r, c] = tuple(round(float(row[k]), 1) for k in ("mean", "median", "p90"))
    return out


def trend(current: int | None, reference: int | None) -> str:
    """``"↑ +12 %"``, ``"↓ -8 %"``, ``"→ +1 %"`` (below 2 %), or ``"n.d."``."""
    if current is None or reference is None or reference == 0:
        return NOT_SHOWN
    change = (current - reference) / reference
    arrow = "→" if abs(change) < STABLE else ("↑" if change > 0 else "↓")
    return f"{arrow} {change * 100:+.0f} %"


def compute(
    stays: pd.DataFrame,
    mains: pd.DataFrame,
    first: date,
    last: date,
    threshold: int,
    site: int | None = None,
) -> Indicators:
    """The indicators of the months ``first`` .. ``last`` (whole months), for every service or
    one (``site``: a ``care_site_id``)."""
    first = first.replace(day=1)
    last = (pd.Timestamp(last) + pd.offsets.MonthEnd(0)).date()
    months = month_range(first, last)
    stays = stays.copy()
    stays["readmission"] = flag_readmissions(stays)  # before any filter: any service counts
    stays["site"] = stays["care_site_id"].fillna(-1).astype("int64")
    names = (
        stays.drop_duplicates("site").set_index("site")["care_site"].fillna(UNKNOWN_SITE).to_dict()
    )
    if site is not None:
        stays = stays[stays["site"] == site]
    stays["start_month"] = stays["start"].dt.to_period("M").astype(str)
    stays["end_month"] = stays["end"].dt.to_period("M").astype(str)
    start_in = (stays["start"] >= pd.Timestamp(first)) & (stays["start"] <= pd.Timestamp(last))
    end_in = (stays["end"] >= pd.Timestamp(first)) & (stays["end"] <= pd.Timestamp(last))
    admitted, discharged = stays[start_in], stays[end_in].copy()
    discharged["los"] = (discharged["end"] - discharged["start"]).dt.days.clip(lower=0)
    sites = sorted(set(admitted["site"]) | set(discharged["site"]) | ({site} - {None}))
    sites = [s for s in sites if s in names or s == site]
    names = {s: names.get(s, UNKNOWN_SITE) for s in sites}

    adm = protect(_grid(admitted, "site", "start_month", sites, months), threshold)
    dis = protect(_grid(discharged, "site", "end_month", sites, months), threshold)
    readm = protect(
        _grid(admitted[admitted["readmission"]], "site", "start_month", sites, months), threshold
    )
    coded = admitted.merge(mains, on="visit_occurrence_id", how="left")
    coded["chapter"] = coded["chapter"].fillna(ch.UNCODED)
    order = sorted(set(coded["chapter"]), key=lambda c: ch.ORDER.get(c, 99))
    # The case mix's service totals are the admissions' row totals: published the same way.
    shared = {(TOTAL, s): adm.cells.at[s, TOTAL] for s in sites}
    shared[(TOTAL, TOTAL)] = adm.cells.at[TOTAL, TOTAL]
    mix = protect(_grid(coded, "chapter", "site", order, sites), threshold, preset=shared)

    result = Indicators(
        first=first,
        last=last,
        threshold=threshold,
        months=months,
        sites=names,
        admissions=adm,
        discharges=dis,
        readmissions=readm,
        case_mix=mix,
    )
    los = _los_table(discharged, dis, sites, months)
    _publish(result, los)
    return result


def _label(site: object, names: dict[int, str]) -> str:
    return TOTAL if site == TOTAL else names[int(site)]


def _wide(cells: pd.DataFrame, names: dict[int, str]) -> pd.DataFrame:
    frame = cells.copy()
    frame.columns.name = None
    frame.insert(0, "service", [_label(s, names) for s in frame.index])
    return frame.reset_index(drop=True)


def _publish(r: Indicators, los: pd.DataFrame) -> None:
    """The tables a manager reads and downloads (French headers)."""
    names = r.sites
    rows = [*names, TOTAL]
    cols = [*r.months, TOTAL]
    rate = pd.DataFrame(NOT_SHOWN, index=rows, columns=cols, dtype=object)
    mom = pd.DataFrame(NOT_SHOWN, index=rows, columns=r.months, dtype=object)
    yoy = pd.DataFrame(NOT_SHOWN, index=rows, columns=r.months, dtype=object)
    for s in rows:
        for c in cols:
            n, k = r.admissions.published(s, c), r.readmissions.published(s, c)
            if n is not None and k is not None and n > 0:
                rate.at[s, c] = round(100 * k / n, 1)
            elif n == 0:
                rate.at[s, c] = ""
        for i, m in enumerate(r.months):
            now = r.admissions.published(s, m)
            if i >= 1:
                mom.at[s, m] = trend(now, r.admissions.published(s, r.months[i - 1]))
            if i >= 12:
                yoy.at[s, m] = trend(now, r.admissions.published(s, r.months[i - 12]))
    mean = los.map(lambda v: v[0] if isinstance(v, tuple) else v)
    r.tables = {
        "entrees": _wide(r.admissions.cells, names),
        "sorties": _wide(r.discharges.cells, names),
        "dms": _wide(mean, names),
        "readmissions": _wide(r.readmissions.cells, names),
        "taux_readmission": _wide(rate, names),
        "evolution_mensuelle": _wide(mom, names),
        "evolution_annuelle": _wide(yoy, names),
    }
    mix = r.case_mix.cells.copy()
    mix.columns = [_label(c, names) for c in mix.columns]
    mix.insert(0, "libellé", [TOTAL if c == TOTAL else ch.title(str(c)) for c in mix.index])
    mix.insert(0, "chapitre", list(mix.index))
    r.tables["casemix"] = mix.reset_index(drop=True)
    r.tables["indicateurs"] = _long(r, los, rate, mom, yoy)
    r.titles = {
        "entrees": "Entrées (séjours admis dans le mois)",
        "sorties": "Sorties (séjours terminés dans le mois)",
        "dms": "Durée moyenne de séjour (jours, séjours sortis)",
        "readmissions": f"Réadmissions à {READMISSION_DAYS} jours",
        "taux_readmission": f"Taux de réadmission à {READMISSION_DAYS} jours (%)",
        "evolution_mensuelle": "Évolution des entrées par rapport au mois précédent",
        "evolution_annuelle": "Évolution des entrées par rapport au même mois un an avant",
        "casemix": "Entrées par chapitre CIM-10 du diagnostic principal",
        "indicateurs": "Indicateurs par service et par mois",
    }


def _long(
    r: Indicators, los: pd.DataFrame, rate: pd.DataFrame, mom: pd.DataFrame, yoy: pd.DataFrame
) -> pd.DataFrame:
    records = []
    for s in [*r.sites, TOTAL]:
        for c in [*r.months, TOTAL]:
            stats = los.at[s, c]
            trio = stats if isinstance(stats, tuple) else (stats, stats, stats)
            records.append(
                {
                    "service": _label(s, r.sites),
                    "mois": c,
                    "entrées": r.admissions.cells.at[s, c],
                    "sorties": r.discharges.cells.at[s, c],
                    "DMS (j)": trio[0],
                    "durée médiane (j)": trio[1],
                    "durée P90 (j)": trio[2],
                    f"réadmissions {READMISSION_DAYS} j": r.readmissions.cells.at[s, c],
                    "taux de réadmission (%)": rate.at[s, c],
                    "évolution M-1": mom.at[s, c] if c != TOTAL else "",
                    "évolution N-1": yoy.at[s, c] if c != TOTAL else "",
                }
            )
    return pd.DataFrame.from_records(records)


def default_window(today: date) -> tuple[date, date]:
    """The last 24 whole months before ``today`` (so that a year has its year-on-year trend)."""
    last = today.replace(day=1) - timedelta(days=1)
    first = (pd.Timestamp(last.replace(day=1)) - pd.DateOffset(months=23)).date()
    return first, last
