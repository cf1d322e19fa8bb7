"""From a long frame or a CSV file to regular series (:class:`SeriesFrame`).

Checks what a forecast cannot do without: the stamp and value columns exist, values are
numbers, no stamp appears twice in a series, stamps sit on one step. Missing steps (gaps) are
kept as missing values on the regular grid: the models skip them when they learn and the
scores skip them; a series missing more than half its steps is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hopia.management.forecast._base import SeriesFrame
from hopia.platform.exceptions import InvalidRequestError, SourceError

MAX_MISSING = 0.5


def infer_step(ds: pd.DatetimeIndex, where: str = "série") -> pd.Timedelta:
    """The series' step: the most frequent difference between sorted stamps."""
    if len(ds) < 3:
        raise SourceError(where, "moins de trois horodatages : pas de série à prévoir")
    diffs = pd.Series(np.diff(ds.as_unit("ns").asi8))
    step = int(diffs.mode().iloc[0])
    if step <= 0:
        raise SourceError(where, "horodatages en double")
    return pd.Timedelta(step, unit="ns")


def regular_frame(
    uid: str,
    ds: pd.Series | pd.DatetimeIndex,
    y: np.ndarray,
    exog: np.ndarray | None,
    exog_names: Sequence[str],
    *,
    freq: str | pd.Timedelta | None = None,
    where: str = "série",
) -> tuple[SeriesFrame, int]:
    """One series on its regular grid; returns the frame and the number of missing steps."""
    stamps = pd.DatetimeIndex(ds)
    if stamps.hasnans:
        raise SourceError(where, f"{uid} : horodatage vide ou illisible")
    stamps = stamps.as_unit("ns")
    order = np.argsort(stamps.asi8, kind="stable")
    stamps = stamps[order]
    y = np.asarray(y, dtype=float)[order]
    if exog is not None:
        exog = np.asarray(exog, dtype=float)[order]
    dup = stamps.duplicated()
    if dup.any():
        raise SourceError(where, f"{uid} : horodatage en double ({stamps[dup][0].isoformat()})")
    step = pd.Timedelta(freq) if freq is not None else infer_step(stamps, where)
    offset = (stamps.asi8 - stamps.asi8[0]) % step.value
    if np.any(offset != 0):
        bad = stamps[offset != 0][0]
        raise SourceError(
            where, f"{uid} : horodatage {bad.isoformat()} hors du pas de la série ({step})"
        )
    grid = pd.date_range(stamps[0], stamps[-1], freq=step).as_unit("ns")
    missing = len(grid) - len(stamps)
    if missing > MAX_MISSING * len(grid):
        raise SourceError(
            where, f"{uid} : {missing} pas manquants sur {len(grid)} (plus de la moitié)"
        )
    pos = ((stamps.asi8 - stamps.asi8[0]) // step.value).astype(np.int64)
    full_y = np.full(len(grid), np.nan)
    full_y[pos] = y
    full_x = None
    if exog is not None and exog.shape[1]:
        full_x = np.full((len(grid), exog.shape[1]), np.nan)
        full_x[pos] = exog
        # exogenous gaps: carried forward then backward (a temperature, not an arrival count)
        full_x = pd.DataFrame(full_x).ffill().bfill().to_numpy()
    return SeriesFrame(uid, grid, full_y, step, full_x, tuple(exog_names)), missing


def numeric(values: pd.Series, column: str, where: str) -> np.ndarray:
    """``values`` as floats; empty cells become missing, text is an error."""
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=float)
    conv = pd.to_numeric(values.astype("string").str.strip().str.replace(",", "."), errors="coerce")
    bad = conv.isna() & values.notna() & (values.astype("string").str.strip() != "")
    if bad.any():
        first = values[bad].iloc[0]
        raise SourceError(where, f"colonne « {column} » non numérique (valeur « {first} »)")
    return conv.to_numpy(dtype=float, na_value=np.nan)


def frames_from_long(
    df: pd.DataFrame,
    *,
    freq: str | pd.Timedelta | None = None,
    exog: Sequence[str] = (),
    where: str = "données",
) -> dict[str, SeriesFrame]:
    """Series of a long frame ``unique_id, ds, y`` (+ exogenous columns), by ``unique_id``."""
    missing = [c for c in ("ds", "y", *exog) if c not in df.columns]
    if missing:
        raise SourceError(where, f"colonne(s) absente(s) : {', '.join(missing)}")
    if "unique_id" not in df.columns:
        df = df.assign(unique_id="serie")
    frames = {}
    for uid, part in df.groupby("unique_id", sort=True):
        y = numeric(part["y"], "y", where)
        x = np.column_stack([numeric(part[c], c, where) for c in exog]) if exog else None
        ds = pd.to_datetime(part["ds"])
        frames[str(uid)], _ = regular_frame(str(uid), ds, y, x, exog, freq=freq, where=where)
    return frames


def read_series_csv(
    path: str | Path, ds: str, y: str, exog: Sequence[str] = ()
) -> tuple[pd.DataFrame, str]:
    """A CSV file as a frame ``ds, y`` (+ exogenous columns) and the stamp format to write.

    ``ds`` names one timestamp column, or a date column and an hour column separated by a
    comma (``Date,Hour``: hours 0-23). The separator (``,`` or ``;``) is detected.
    """
    path = Path(path)
    if not path.is_file():
        raise SourceError(path, "fichier introuvable")
    try:
        with path.open(encoding="utf-8-sig") as fh:
            head = fh.readline()
        sep = ";" if head.count(";") > head.count(",") else ","
        raw = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceError(path, f"fichier illisible ({exc.__class__.__name__})") from exc
    ds_cols = [c.strip() for c in ds.split(",") if c.strip()]
    if not 1 <= len(ds_cols) <= 2:
        raise InvalidRequestError("horodatage : une colonne, ou deux « date,heure »", fields=["ds"])
    absent = [c for c in (*ds_cols, y, *exog) if c not in raw.columns]
    if absent:
        raise SourceError(
            path,
            f"colonne(s) absente(s) : {', '.join(absent)} "
            f"(colonnes du fichier : {', '.join(raw.columns)})",
        )
    if raw.empty:
        raise SourceError(path, "aucune ligne de données")
    try:
        stamps = pd.to_datetime(raw[ds_cols[0]].str.strip(), format="mixed")
        if len(ds_cols) == 2:
            hours = pd.to_numeric(raw[ds_cols[1]].str.strip(), errors="raise")
            if ((hours < 0) | (hours > 23) | (hours % 1 != 0)).any():
                raise ValueError("heure hors de 0-23")
            stamps = stamps.dt.normalize() + pd.to_timedelta(hours, unit="h")
    except (ValueError, TypeError) as exc:
        raise SourceError(path, f"horodatage illisible dans « {ds} » ({exc})") from exc
    frame = pd.DataFrame({"ds": stamps, "y": numeric(raw[y].replace("", None), y, str(path))})
    for col in exog:
        frame[col] = numeric(raw[col].replace("", None), col, str(path))
    if frame["y"].notna().sum() == 0:
        raise SourceError(path, f"colonne « {y} » vide")
    return frame, ds
