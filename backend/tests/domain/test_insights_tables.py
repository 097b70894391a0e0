"""The page's tables flattened for CSV (pure: ledger/domain/insights_tables.py)."""

from __future__ import annotations

from ledger.domain.insights_tables import LEADING, TABLES, flat, funnel_records, table


def test_nested_figures_become_dotted_columns_and_lists_one_cell():
    last = [{"text_key": "offers", "n": 3}, {"k": "x"}]
    record = {"by": "all", "paid": {"share": 0.5, "amount": "1.00"}, "last": last}
    assert flat(record) == {"by": "all", "paid.share": 0.5, "paid.amount": "1.00", "last": "offers=3; x"}


def test_the_header_is_the_leading_columns_then_every_column_seen():
    header, rows = table([{"a": 1, "b": {"c": True}}, {"a": None, "d": "=1+1"}], leading=("z", "a"))
    assert header == ["z", "a", "b.c", "d"]
    assert rows == [["", "1", "true", ""], ["", "", "", "'=1+1"]]  # a formula is defused
    assert table([], leading=LEADING["nlu_confused"]) == (list(LEADING["nlu_confused"]), [])
    assert set(LEADING) == set(TABLES)


def test_the_committed_step_carries_how_it_was_committed():
    steps = [{"step": "started", "reached": 2}, {"step": "committed", "reached": 1}]
    data = {"steps": ["started", "committed"], "total": {"steps": steps, "committed_as": {"promise": 1}}, "groups": []}
    records = funnel_records(data)
    assert records[0] == {"language": "all", "channel": "all", "step": "started", "reached": 2}
    assert records[1]["committed_as"] == {"promise": 1}
