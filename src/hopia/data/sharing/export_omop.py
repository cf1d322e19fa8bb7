"""Write a shared dataset as OMOP CDM 5.4 tables: CSV (UTF-8, header, empty = NULL) or Parquet
(column types of the CDM, so that an all-empty column keeps its type).

Every table has the full CDM column set in CDM order: the folder loads as it is into any CDM
5.4 warehouse (``hopia warehouse load-omop`` included).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import types as t

from hopia.data.sharing.prepare import SharedDataset
from hopia.platform.warehouse import schema

FORMATS = {"omop-csv": "csv", "omop-parquet": "parquet"}


def _arrow_type(column_type: t.TypeEngine) -> pa.DataType:
    if isinstance(column_type, t.Integer):
        return pa.int64()
    if isinstance(column_type, t.Float):
        return pa.float64()
    if isinstance(column_type, t.DateTime):
        return pa.timestamp("us")
    if isinstance(column_type, t.Date):
        return pa.date32()
    return pa.string()


def arrow_schema(name: str) -> pa.Schema:
    return pa.schema([(c.name, _arrow_type(c.type)) for c in schema.CDM[name].c])


def _arrow_table(name: str, frame: pd.DataFrame) -> pa.Table:
    target = arrow_schema(name)
    arrays = []
    for f in target:
        values = frame[f.name].astype(object).where(frame[f.name].notna(), None).tolist()
        arrays.append(pa.array(values, type=f.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=target)


def _csv_text(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Integers without a decimal point, dates in ISO form, NULL as empty."""
    out = pd.DataFrame(index=frame.index)
    for column in schema.CDM[name].c:
        series = frame[column.name]
        if isinstance(column.type, t.Integer):
            out[column.name] = pd.to_numeric(series).astype("Int64")
        elif isinstance(column.type, t.Float):
            out[column.name] = pd.to_numeric(series).astype("float64")
        else:
            out[column.name] = series.map(
                lambda v: None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
            )
    return out


def write_omop(dataset: SharedDataset, folder: Path, fmt: str) -> dict[str, int]:
    """Write each table to ``folder/<table>.<csv|parquet>``; returns rows per file name."""
    extension = FORMATS[fmt]
    folder.mkdir(parents=True, exist_ok=True)
    rows = {}
    for name, frame in dataset.tables.items():
        path = folder / f"{name}.{extension}"
        if extension == "csv":
            _csv_text(name, frame).to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        else:
            pq.write_table(_arrow_table(name, frame), path, compression="zstd")
        rows[path.name] = len(frame)
    return rows


def read_omop(folder: Path, fmt: str) -> dict[str, pd.DataFrame]:
    """Read an export back (tests and recipients): same typed frames from CSV or Parquet."""
    extension = FORMATS[fmt]
    out = {}
    for path in sorted(folder.glob(f"*.{extension}")):
        if extension == "parquet":
            out[path.stem] = pq.read_table(path).to_pandas(types_mapper=_nullable)
        else:
            out[path.stem] = _read_csv(path)
    return out


def _nullable(arrow_type: pa.DataType) -> object:
    return pd.Int64Dtype() if pa.types.is_integer(arrow_type) else None


def _read_csv(path: Path) -> pd.DataFrame:
    target = arrow_schema(path.stem)
    table = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types=target, strings_can_be_null=True, null_values=[""]
        ),
    )
    return table.select(target.names).to_pandas(types_mapper=_nullable)
