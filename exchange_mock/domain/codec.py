"""Commands, events and replies to and from JSON bytes, for the Redis streams and channels.

Each message is tagged with its class name; the decoder rebuilds enums and nested dataclasses
from the class's own type hints, so adding a message type needs no codec change.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from enum import Enum
from functools import cache, partial
from typing import Any

import orjson

from exchange_mock.domain import commands, events, replies
from exchange_mock.domain.commands import Command
from exchange_mock.domain.events import Event, OrderSnapshot
from exchange_mock.domain.replies import Reply

_REGISTRY: dict[str, type[Any]] = {
    cls.__name__: cls
    for module in (commands, events, replies)
    for cls in vars(module).values()
    if dataclasses.is_dataclass(cls) and isinstance(cls, type) and cls.__module__ == module.__name__
}


def encode(message: Any) -> bytes:
    """`{"t": "<ClassName>", ...fields}` as JSON bytes."""
    return orjson.dumps({"t": type(message).__name__, **_fields(message)})


def decode_command(raw: bytes | str) -> Command:
    return typing.cast(Command, _decode(raw, Command))


def decode_event(raw: bytes | str) -> Event:
    return typing.cast(Event, _decode(raw, Event))


def decode_reply(raw: bytes | str) -> Reply:
    return typing.cast(Reply, _decode(raw, Reply))


def decode_snapshot(raw: bytes | str) -> OrderSnapshot:
    return typing.cast(OrderSnapshot, _decode(raw, OrderSnapshot))


def _decode(raw: bytes | str, expected: Any) -> Any:
    """Rebuild a message and check it belongs to `expected` (a message class or a union)."""
    data = orjson.loads(raw)
    cls = _REGISTRY.get(data.pop("t", ""))
    if cls is None:
        raise ValueError(f"unknown message type in {raw!r}")
    message = _build(cls, data)
    if not isinstance(message, typing.get_args(expected) or expected):
        raise TypeError(f"expected one of {expected}, got {type(message).__name__}")
    return message


def _fields(message: Any) -> dict[str, Any]:
    return {f.name: getattr(message, f.name) for f in dataclasses.fields(message)}


Convert = Callable[[Any], Any]


_PLANS: dict[type[Any], tuple[tuple[str, Convert], ...]] = {}


def _plan(cls: type[Any]) -> tuple[tuple[str, Convert], ...]:
    """The fields of `cls` whose JSON value needs rebuilding, and how: worked out once per
    class, since every stream entry and reply is decoded (the projector and the engine decode
    tens of thousands a second)."""
    plan = _PLANS.get(cls)
    if plan is None:
        hints = typing.get_type_hints(cls)
        steps = ((f.name, _converter(hints[f.name])) for f in dataclasses.fields(cls))
        plan = _PLANS[cls] = tuple((name, step) for name, step in steps if step is not None)
    return plan


def _build(cls: type[Any], data: dict[str, Any]) -> Any:
    for name, convert in _plan(cls):
        value = data.get(name)
        if value is not None:
            data[name] = convert(value)
    return cls(**data)


@cache
def _converter(hint: Any) -> Convert | None:
    """How to rebuild a value of type `hint` from its JSON; None when JSON already gives it."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _converter(options[0]) if len(options) == 1 else None
    if origin is tuple:
        item = _converter(typing.get_args(hint)[0])
        if item is None:
            return tuple
        return lambda values: tuple(None if v is None else item(v) for v in values)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return partial(_build, hint)
    return None
