"""Numbers in the Time series legend, statistics and table (tui/widgets/ts_views.py format_number)."""

from __future__ import annotations

import pytest

from tui.widgets.ts_views import format_number


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3.21734, "3.217"),
        (0.5, "0.5"),
        (12400, "12 400"),
        (17_418_801.14, "17 418 801.1"),  # an energy counter: min and max of a day differ in the last digits
        (18_940_000.0, "18 940 000.0"),
        (2.5e16, "2.500e+16"),
        (0.0004, "4.000e-04"),
        (None, "–"),
        (True, "true"),
    ],
)
def test_format_number(value: object, text: str) -> None:
    assert format_number(value) == text


def test_a_counters_min_and_max_read_apart() -> None:
    assert format_number(18_940_123.0) != format_number(18_950_456.0)
