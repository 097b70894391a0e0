"""Event-type resolution without walking the class tree each time.

Rasa 3.6 turns every stored event back into an object with ``Event.from_parameters``, which
calls ``Event.resolve_by_type(type_name)``: that walks ``all_subclasses(Event)`` (a recursive
``__subclasses__()`` over 40-odd classes) for every event of every tracker it loads, about a
tenth of a turn's CPU in the project's benchmark. Here each type name found is remembered
with its class, the first one in ``all_subclasses`` order as before; a name not found is not
remembered (a class defined later is still found), and unknown names raise the same
ValueError (or give the same default) as before.
"""

from __future__ import annotations

from typing import Any

_classes: dict[str, Any] = {}
_original: Any = None


def resolve_by_type(type_name: str, default: Any = None) -> Any:
    cls = _classes.get(type_name)
    if cls is not None:
        return cls
    if type_name != "topic":
        try:
            cls = _original(type_name, None)
        except ValueError:  # unknown: the same answer below (the default, or the same error)
            cls = None
        if cls is not None:
            _classes[type_name] = cls
            return cls
    return _original(type_name, default)


def install() -> None:
    global _original
    from rasa.shared.core.events import Event

    if _original is None:
        _original = Event.resolve_by_type
        Event.resolve_by_type = staticmethod(resolve_by_type)
