"""The overview's figures from facts rows (pure: ledger/domain/insights.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from ledger.domain.insights import DEFINITIONS, Filters, overview, period_of


def row(day: int, **facts):
    base = {
        "started_at": datetime(2026, 11, day, 9, tzinfo=UTC),
        "languages": ["zh"],
        "channel": "web",
        "turns": 4,
        "fallbacks": 0,
        "verified": False,
        "verification": "not_asked",
        "escalated": False,
        "escalation_reason": None,
        "handled_by_agent": False,
        "outcome": "none",
        "said_goodbye": False,
    }
    return {**base, **facts}


ROWS = [
    row(2, verified=True, verification="verified", outcome="arrangement", turns=10),
    row(2, verification="lockout", escalated=True, escalation_reason="verification_locked", turns=6, fallbacks=1),
    row(3, escalated=True, escalation_reason="request_human", handled_by_agent=True, turns=3, languages=["en"]),
    row(3, said_goodbye=True, turns=2, channel="wechat"),
    row(4, turns=1),  # left without anything
    row(20, turns=9),  # outside the period below
]
NOV = Filters(date(2026, 11, 1), date(2026, 11, 10), group="all")


def test_totals_follow_their_definitions():
    total = overview(ROWS, NOV)["total"]
    assert total["conversations"] == 5
    assert total["containment"] == 0.6  # 2 of 5 needed a person
    assert total["verification_success"] == 0.5 and total["verification_asked"] == 2
    assert total["escalation_rate"] == 0.4
    assert total["escalation_by_reason"] == {"request_human": 0.2, "verification_locked": 0.2}
    assert total["fallback_rate"] == round(1 / 22, 4) and total["borrower_messages"] == 22
    assert total["abandonment"] == 0.2  # only the one that left with nothing said
    assert total["median_turns"] == 3


def test_rows_per_period_language_and_channel():
    result = overview(ROWS, Filters(date(2026, 11, 1), date(2026, 11, 10), group="day"))
    keys = [(r["period"], r["language"], r["channel"], r["conversations"]) for r in result["rows"]]
    assert keys == [
        ("2026-11-02", "zh", "web", 2),
        ("2026-11-03", "en", "web", 1),
        ("2026-11-03", "zh", "wechat", 1),
        ("2026-11-04", "zh", "web", 1),
    ]


def test_periods_across_languages_and_channels():
    result = overview(ROWS, Filters(date(2026, 11, 1), date(2026, 11, 10), group="day"))
    assert [(p["period"], p["conversations"], p["containment"]) for p in result["periods"]] == [
        ("2026-11-02", 2, 0.5),
        ("2026-11-03", 2, 0.5),
        ("2026-11-04", 1, 1.0),
    ]


def test_filters_by_language_and_channel():
    assert overview(ROWS, Filters(date(2026, 11, 1), date(2026, 11, 30), language="en"))["total"]["conversations"] == 1
    assert (
        overview(ROWS, Filters(date(2026, 11, 1), date(2026, 11, 30), channel="wechat"))["total"]["conversations"] == 1
    )


def test_nothing_to_divide_by_is_no_figure():
    total = overview([], NOV)["total"]
    assert total["conversations"] == 0
    assert total["containment"] is None and total["median_turns"] is None and total["fallback_rate"] is None


def test_periods_and_definitions():
    assert period_of(date(2026, 11, 5), "week") == "2026-11-02"  # its Monday
    assert period_of(date(2026, 11, 5), "month") == "2026-11"
    for name in ("conversations", "containment", "verification_success", "escalation_rate", "fallback_rate",
                 "abandonment", "median_turns"):  # fmt: skip
        assert DEFINITIONS[name]["en"] and DEFINITIONS[name]["zh"]


def test_rows_that_stand_for_several_conversations_count_as_many():
    """The database groups identical conversations by day (`conversations`: how many;
    `fallbacks`: the group's total): the figures come out as from the rows one by one."""
    from ledger.domain.insights import overview_of_selection

    def day_row(r, n=1):
        grouped = {**r, "day": r["started_at"].date(), "conversations": n, "fallbacks": r["fallbacks"] * n}
        return {k: v for k, v in grouped.items() if k != "started_at"}

    one_by_one = [day_row(r) for r in ROWS[:5]] + [day_row(ROWS[0])] * 2
    grouped = [day_row(ROWS[0], 3)] + [day_row(r) for r in ROWS[1:5]]
    for group in ("day", "all"):
        filters = Filters(date(2026, 11, 1), date(2026, 11, 10), group=group)
        assert overview_of_selection(grouped, filters) == overview_of_selection(one_by_one, filters)
    total = overview_of_selection(grouped, NOV)["total"]
    assert total["conversations"] == 7 and total["median_turns"] == 6  # 1 2 3 6 10 10 10
    assert overview(ROWS[:5] + [ROWS[0]] * 2, NOV)["total"] == total


def test_the_weighted_median_is_the_median_of_the_values_repeated():
    import random
    from collections import Counter
    from statistics import median

    from ledger.domain.insights import weighted_median

    rnd = random.Random(3)
    for _ in range(500):
        values = [rnd.randint(0, 9) for _ in range(rnd.randint(1, 12))]
        assert weighted_median(list(Counter(values).items())) == median(values), values
    assert weighted_median([]) is None


def test_csat_is_the_average_of_the_rated_and_how_many_rated():
    days = Filters(date(2026, 11, 1), date(2026, 11, 10), group="day")
    rows = [row(2, csat=4), row(2, csat=5), row(3, languages=["en"], csat=2), row(4, turns=1), row(3, csat=None)]
    figures = overview(rows, days)
    assert (figures["total"]["csat_average"], figures["total"]["csat_count"]) == (round(11 / 3, 2), 3)
    by_period = {p["period"]: (p["csat_average"], p["csat_count"]) for p in figures["periods"]}
    assert by_period == {"2026-11-02": (4.5, 2), "2026-11-03": (2.0, 1), "2026-11-04": (None, 0)}
    rated = [(r["period"], r["language"], r["csat_average"]) for r in figures["rows"]]
    assert rated == [
        ("2026-11-02", "zh", 4.5),
        ("2026-11-03", "en", 2.0),
        ("2026-11-03", "zh", None),
        ("2026-11-04", "zh", None),
    ]
    assert "csat" in DEFINITIONS
    nobody = overview([row(2), row(3)], days)
    assert (nobody["total"]["csat_average"], nobody["total"]["csat_count"]) == (None, 0)


def test_the_median_duration_is_the_range_of_the_middle_conversation():
    from datetime import timedelta

    from ledger.domain.insights import DURATION_BOUNDS, duration_range

    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    seconds = (0, 14.999, 15, 59, 60, 7199, 7200, 10**6)
    assert [duration_range(start, start + timedelta(seconds=s)) for s in seconds] == [
        0, 0, 15, 30, 60, 3600, 7200, 7200]  # fmt: skip
    assert duration_range(start, None) == 0 and duration_range(start, start - timedelta(seconds=5)) == 0
    rows = [row(2, ended_at=datetime(2026, 11, 2, 9, tzinfo=UTC) + timedelta(seconds=s)) for s in (5, 70, 100, 4000)]
    total = overview(rows, NOV)["total"]  # 5 s, 70 s | 100 s, 4000 s: the shorter middle one is 70 s
    assert (total["median_duration_from_seconds"], total["median_duration_to_seconds"]) == (60, 90)
    total = overview(rows[1:], NOV)["total"]  # 70 s, 100 s, 4000 s: the middle one is 100 s
    assert (total["median_duration_from_seconds"], total["median_duration_to_seconds"]) == (90, 120)
    total = overview([rows[-1]], NOV)["total"]
    assert (total["median_duration_from_seconds"], total["median_duration_to_seconds"]) == (3600, 7200)
    longest = row(2, ended_at=datetime(2026, 11, 3, 9, tzinfo=UTC))
    assert overview([longest], NOV)["total"]["median_duration_to_seconds"] is None
    assert overview([], NOV)["total"]["median_duration_from_seconds"] is None
    assert DURATION_BOUNDS[0] == 0 and list(DURATION_BOUNDS) == sorted(DURATION_BOUNDS)
    assert "median_duration" in DEFINITIONS and set(DEFINITIONS["median_duration"]) == {"en", "zh"}
