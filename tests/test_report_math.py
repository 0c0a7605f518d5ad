"""Percentages and statuses as the report shows them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.report import (
    PROGRESS_COLUMNS,
    REPORT_COLUMNS,
    ProgressRow,
    ProgressStatus,
    ReportRow,
    percent,
    status_of,
)


@pytest.mark.parametrize(
    ("done", "lessons", "expected"),
    [
        (0, 3, 0.0),
        (1, 3, 33.3),
        (2, 3, 66.6),
        (3, 3, 100.0),
        (199, 200, 99.5),
        (0, 0, 0.0),
        (2, 7, 28.5),
        (6, 7, 85.7),
    ],
)
def test_percent_is_rounded_down_to_one_decimal(done: int, lessons: int, expected: float) -> None:
    assert percent(done, lessons) == expected


def test_only_every_lesson_done_is_100() -> None:
    assert percent(999, 1000) == 99.9
    assert percent(1000, 1000) == 100.0


def test_status() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert status_of(0, 0, None) is ProgressStatus.NOT_STARTED
    assert status_of(1, 0, None) is ProgressStatus.IN_PROGRESS
    assert status_of(3, 3, now) is ProgressStatus.COMPLETED


def test_report_rows_read_their_columns_by_label() -> None:
    """Both rows are read from result rows by label: the column lists carry exactly the
    rows' labels (a report row's last field is its progress row)."""
    assert tuple(c.key for c in PROGRESS_COLUMNS) == ProgressRow._fields
    assert tuple(c.key for c in REPORT_COLUMNS) == ReportRow._fields[:-1] + ProgressRow._fields
