"""Records whose ``__init__`` is written out (``@dataclass(..., init=False)``, so that mypyc
compiles it into a native constructor for the policy lab: docs/policy-lab.md, Speed) behave
as the generated one would: the fields as parameters, in order, with their defaults, each set
from its own parameter, frozen records still frozen."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from ledger.domain import account, lab, relief, schedule

WRITTEN_OUT = [
    cls
    for module in (account, lab, relief, schedule)
    for cls in vars(module).values()
    if inspect.isclass(cls)
    and cls.__module__ == module.__name__
    and dataclasses.is_dataclass(cls)
    and not cls.__dataclass_params__.init  # type: ignore[attr-defined]
]


def test_the_hot_records_are_among_them():
    names = {c.__name__ for c in WRITTEN_OUT}
    assert {"InstalmentStatus", "LoanStatus", "PlanOutcome", "PlanDecision", "OfferTerms"} <= names
    assert {"ScheduledInstalment", "_Inst"} <= names


@pytest.mark.parametrize("cls", WRITTEN_OUT, ids=lambda c: c.__name__)
def test_a_written_out_init_takes_every_field_in_order_with_its_default(cls):
    fields = [f for f in dataclasses.fields(cls) if f.init]
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert [p.name for p in params] == [f.name for f in fields]
    for p, f in zip(params, fields, strict=True):
        assert p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        default = inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
        assert p.default is default or p.default == default, f.name


@pytest.mark.parametrize("cls", WRITTEN_OUT, ids=lambda c: c.__name__)
def test_a_written_out_init_sets_each_field_from_its_own_parameter(cls):
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    values = {name: object() for name in names}  # a distinct marker per field
    record = cls(**values)
    assert {name: getattr(record, name) for name in names} == values
    positional = cls(*values.values())
    assert all(getattr(positional, name) is values[name] for name in names)
    if cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, names[0], 1)
