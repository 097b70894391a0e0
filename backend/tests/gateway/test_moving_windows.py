"""The gateway's moving-window limits (gateway/ratelimit.py): counted exactly, cheap per hit,
and bounded in memory however many keys pass through."""

import asyncio

import pytest

from gateway.ratelimit import Limits, LimitSpec, UnknownLimit


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def run(coro):
    return asyncio.run(coro)


def test_a_window_allows_its_amount_then_says_how_long_to_wait():
    clock = Clock()
    limits = Limits({"chat": LimitSpec(3, "1 minute")}, clock=clock)
    assert [run(limits.hit("chat", "a")) for _ in range(3)] == [None, None, None]
    assert run(limits.hit("chat", "a")) == 60.0
    clock.now += 20
    assert run(limits.hit("chat", "a")) == 40.0  # the oldest hit leaves the window in 40 s
    assert run(limits.hit("chat", "b")) is None  # another key has its own window


def test_the_window_moves_hit_by_hit():
    clock = Clock()
    limits = Limits({"chat": LimitSpec(2, "10 seconds")}, clock=clock)
    assert run(limits.hit("chat", "k")) is None
    clock.now += 6
    assert run(limits.hit("chat", "k")) is None
    clock.now += 3
    assert run(limits.hit("chat", "k")) == 1.0  # at least one second, rounded up
    clock.now += 1.5  # the first hit (t=0) left the window at t=10
    assert run(limits.hit("chat", "k")) is None
    assert run(limits.hit("chat", "k")) is not None


def test_refused_hits_are_not_counted():
    clock = Clock()
    limits = Limits({"chat": LimitSpec(1, "10 seconds")}, clock=clock)
    assert run(limits.hit("chat", "k")) is None
    for _ in range(50):
        assert run(limits.hit("chat", "k")) is not None
    clock.now += 10.001
    assert run(limits.hit("chat", "k")) is None


def test_check_does_not_count_and_clear_forgets():
    clock = Clock()
    limits = Limits({"login": LimitSpec(2, "15 minutes")}, clock=clock)
    assert run(limits.check("login", "acct")) is None
    run(limits.hit("login", "acct"))
    run(limits.hit("login", "acct"))
    assert run(limits.check("login", "acct")) == 900.0
    run(limits.clear("login", "acct"))
    assert run(limits.check("login", "acct")) is None


def test_an_unknown_limit_is_a_programming_error():
    limits = Limits({"chat": LimitSpec(1, "1 minute")})
    for call in (limits.hit, limits.check, limits.clear):
        with pytest.raises(UnknownLimit):
            run(call("nope", "k"))


def test_keys_whose_window_is_empty_are_forgotten():
    clock = Clock()
    limits = Limits({"chat": LimitSpec(5, "1 minute")}, clock=clock)
    for i in range(10_000):
        run(limits.hit("chat", f"conversation-{i}"))
    clock.now += 61
    for i in range(20_000):
        run(limits.hit("chat", f"later-{i}"))
    assert limits.keys() == 20_000  # every key of the first minute swept, every live one kept


def test_memory_stays_bounded_under_a_flood_of_fresh_keys():
    clock = Clock()
    limits = Limits({"chat": LimitSpec(5, "1 hour")}, clock=clock, max_keys=1_000)
    for i in range(20_000):
        run(limits.hit("chat", f"k{i}"))
        clock.now += 0.01
    assert limits.keys() <= 1_000
    assert run(limits.hit("chat", "k19999")) is None  # the newest keys are kept
