"""Close dates without a time: whole days, so a deal won on its creation day took 0 days."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from linktracker.crm.services import ImportContext, ImportOptions, upload_and_import
from linktracker.reports.filters import ReportFilters
from linktracker.reports.services import report_reps

# Zoho-style: the creation time has a time of day, the closing date is a bare date.
ZOHO_DEALS = (
    "Record Id,Deal Name,Stage,Amount,Created Time,Closing Date\r\n"
    "zcrm_1,Same day A,Closed Won,100,2026-03-10 14:30:00,2026-03-10\r\n"
    "zcrm_2,Same day B,Closed Won,200,2026-03-11 09:05:00,2026-03-11\r\n"
    "zcrm_3,Two days,Closed Won,300,2026-03-12 18:00:00,2026-03-14\r\n"
    "zcrm_4,Timed,Closed Won,400,2026-03-13 08:00:00,2026-03-13 20:00:00\r\n"
    "zcrm_5,Before,Closed Won,500,2026-03-15 10:00:00,2026-03-14\r\n"
    "zcrm_6,No close,Closed Won,600,2026-03-16 10:00:00,\r\n"
)


def test_same_day_date_only_wins_count_as_zero_days_not_closed_before_created(
    session: Session, tmp_path: Path
) -> None:
    summary = upload_and_import(
        session,
        io.BytesIO(ZOHO_DEALS.encode()),
        filename="zoho_deals.csv",
        context=ImportContext(tmp_path, b"secret"),
        options=ImportOptions(),
    )
    assert (summary.inserted, summary.rejected) == (6, 0)
    report = report_reps(
        session, ReportFilters(date(2026, 3, 1), date(2026, 3, 31)), timezone="UTC"
    )
    figures = report.baseline  # records attributed to nobody
    assert figures.won == 6
    assert figures.closed_before_created == 1  # zcrm_5 only
    assert figures.won_without_close_date == 1  # zcrm_6
    # 0, 0, 2 whole days, 0.5 day (12 h): median of the four kept records.
    assert figures.median_days_to_close == 0.25
    assert figures.mean_days_to_close == (0 + 0 + 2 + 0.5) / 4
