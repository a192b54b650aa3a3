"""The one duration parser and age formatter: the cases where the former copies disagreed.

Each case names the copy that got it wrong (the kubelet's, the scheduler's, navctl's,
the controller-manager's flag parser, the apiserver's CronJob check or table ages).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apitypes.duration import (
    DurationError,
    age,
    go_duration_error,
    human_duration,
    parse_duration,
    parse_go_duration,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("10us", 10e-6),  # the kubelet knew only ms, s, m, h
        ("250ns", 250e-9),  # the kubelet
        ("3μs", 3e-6),  # Greek mu: only the apiserver accepted it
        ("-1.5h", -5400.0),  # the scheduler refused a sign
        (".5s", 0.5),  # navctl wanted digits before the point
        ("1.s", 1.0),  # navctl wanted digits after it
    ],
)
def test_go_durations_every_copy_did_not_accept(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["inf", "nan", "1e3", "1_000", "-inf"])
def test_flag_numbers_are_plain_decimals_only(text: str) -> None:
    # The controller-manager's parser took anything float() takes.
    with pytest.raises(DurationError):
        parse_duration(text)


def test_overflowing_durations_are_refused_as_go_refuses_them() -> None:
    # The apiserver's check had no bound: Go's Duration is an int64 of nanoseconds.
    assert go_duration_error("9999999999h") == 'time: invalid duration "9999999999h"'
    assert go_duration_error("2562047h47m16.854775808s") is not None
    assert go_duration_error("-2562047h47m16.854775808s") is None
    assert go_duration_error("2562047h47m16.854775807s") is None


def test_errors_quote_as_the_time_package_does() -> None:
    # The apiserver quoted with strconv.Quote, which keeps printable non-ASCII text.
    assert go_duration_error("5é") == r'time: unknown unit "\xc3\xa9" in duration "5\xc3\xa9"'
    assert go_duration_error("5") == 'time: missing unit in duration "5"'
    assert go_duration_error("") == 'time: invalid duration ""'
    assert go_duration_error("+0") is None


def test_ages_in_the_future_are_invalid_beyond_a_second_of_skew() -> None:
    # The apiserver's tables printed every future time as 0s.
    now = datetime(2024, 1, 1, tzinfo=UTC)
    assert age(now + timedelta(seconds=5), now) == "<invalid>"
    assert age(now + timedelta(seconds=1), now) == "0s"
    assert human_duration(-2) == "<invalid>"
    assert age(None, now) == "<unknown>"
