"""Time of one ``/pilotage/previsions`` forecast (the service call: warehouse read, audit
entry, fit, 90-day forecast) on the synthetic hospital of the tests, per model.

    OMP_NUM_THREADS=1 .venv/bin/python bench/admissions_forecast.py [--repeat 7]

Data: ``tests/management/steering/data.py`` (synthetic: five services, 24 months of inpatient
stays) in a temporary DuckDB file. Times: median and spread of ``--repeat`` calls after one
warm-up call (imports, holiday calendar), for the whole hospital and for the smallest service.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import sample as sample_module  # noqa: E402
from tests.conftest import TEST_AUDIT_KEY  # noqa: E402
from tests.management.steering import data  # noqa: E402
from tests.web.conftest import settings_for  # noqa: E402

from hopia.platform.warehouse import Warehouse  # noqa: E402
from hopia.services import forecasts  # noqa: E402
from hopia.services.context import Context  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        wh = Warehouse(f"duckdb:///{folder / 'w.duckdb'}")
        data.fill(wh, data.frames())
        sample_module.anchor_audit(wh, folder / "home" / "audit", TEST_AUDIT_KEY)
        ctx = Context.local(settings_for(folder / "home"), "bench")
        ctx._warehouse, ctx._owns_warehouse = wh, False
        forecasts.admissions(ctx, forecasts.AdmissionsRequest.of())
        print("| model | service | median ms | min–max | n |\n|---|---|---|---|---|")
        for model in forecasts.models():
            for service in (None, 5):
                times = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    forecasts.admissions(
                        ctx,
                        forecasts.AdmissionsRequest.of(model=model, service=service, days=90),
                    )
                    times.append((time.perf_counter() - start) * 1000)
                name = "whole hospital" if service is None else f"site {service}"
                print(
                    f"| {model} | {name} | {statistics.median(times):.0f} | "
                    f"{min(times):.0f}–{max(times):.0f} | {len(times)} |"
                )
        wh.close()


if __name__ == "__main__":
    main()
