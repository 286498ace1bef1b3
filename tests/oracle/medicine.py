"""Medicine indicators, recomputed from the statistics centre's facility workbooks in the inbox
(``simulator.medicine``): the reports of the files delivered by the run's instant, a corrected
file (later compilation date) replacing its month's reports. Facilities are placed in their
district, or their province when the register gives none.

* ``med_bed_occupancy_pct`` (ratio): bed-days used over bed-days available (beds x days of the
  month) of the facilities that reported, x 100.
"""

from __future__ import annotations

import calendar
import datetime as dt

import polars as pl

from simulator import medicine
from tests.oracle.engine import base_frame, rollup


def expected(seed: int, as_of: dt.datetime) -> dict[str, pl.DataFrame]:
    system = medicine.generate(seed)
    delivered = system.delivered(as_of)
    facilities = {f.facility_code: f for f in system.facilities}
    newest: dict[dt.date, dt.date] = {}
    for report in system.facility_reports:
        if report.file_name in delivered:
            newest[report.report_month] = max(
                newest.get(report.report_month, report.compiled_on), report.compiled_on
            )
    rows = []
    for report in system.facility_reports:
        if report.file_name not in delivered or report.compiled_on != newest[report.report_month]:
            continue
        facility = facilities[report.facility_code]
        month = report.report_month
        days = calendar.monthrange(month.year, month.month)[1]
        rows.append(
            {
                "date": month,
                "province": facility.province_code,
                "district": facility.district_code,
                "enterprise": f"medicine_facility_reports:{report.facility_code}",
                "num": float(report.bed_days_used),
                "den": float(report.beds * days),
            }
        )
    return {
        "med_bed_occupancy_pct": rollup(
            base_frame(rows),
            indicator_id="med_bed_occupancy_pct",
            period_types=("month", "quarter", "year", "ytd"),
            aggregation="ratio",
            factor=100.0,
            enterprise_rows=True,
        )
    }
