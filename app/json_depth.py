"""JSON from clients, bounded in depth: a deeply nested payload is bad input, not a crash.

Python's decoder recurses once per level, so ``[[[[…]]]]`` a few thousand levels deep raises
``RecursionError`` — which neither Flask's ``get_json`` nor python-socketio's packet decoder
expects: the request became a 500 and the socket event a traceback in the log. No payload of
the desk nests more than a few levels, so anything deeper than ``MAX_DEPTH`` is refused.

- HTTP: ``BoundedJSONProvider`` (``app.json``) turns it into the ``ValueError`` Flask treats
  as malformed JSON (``get_json(silent=True)`` → None → the endpoint's ``invalid`` answer).
- Socket.IO: ``SocketJSON`` is the packets' JSON module; an event whose arguments are too deep
  arrives as ``[event, TOO_DEEP]``, which the namespaces answer with an ``invalid`` ack (and
  a connection's ``auth`` as ``TOO_DEEP``, refused as not an object).
"""

from __future__ import annotations

import json
import re

from flask.json.provider import DefaultJSONProvider

MAX_DEPTH = 32


class _TooDeep:
    """Stands for the arguments of an event that were nested too deeply to be read."""

    def __repr__(self) -> str:
        return "TOO_DEEP"


TOO_DEEP = _TooDeep()


class NestedTooDeeply(ValueError):
    """A JSON document deeper than MAX_DEPTH (a ValueError, as any malformed JSON)."""

_EVENT_NAME = re.compile(r'\s*\[\s*("(?:[^"\\]|\\.){0,200}")')


def loads_bounded(text: str | bytes, **kwargs) -> object:
    """`json.loads`, refusing (NestedTooDeeply) documents nested deeper than MAX_DEPTH."""
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8")
    # A document cannot be deeper than its number of brackets: most never need the walk.
    if text.count("[") + text.count("{") > MAX_DEPTH:
        try:
            data = json.loads(text, **kwargs)
        except RecursionError:
            raise NestedTooDeeply("JSON nested too deeply") from None
        if _depth(data) > MAX_DEPTH:
            raise NestedTooDeeply("JSON nested too deeply")
        return data
    return json.loads(text, **kwargs)


def _depth(data: object) -> int:
    """Nesting depth without recursion (the value may be hundreds of levels deep)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((item, level + 1) for item in value)
    return deepest


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with request bodies bounded in depth."""

    def loads(self, s: str | bytes, **kwargs) -> object:
        return loads_bounded(s, **kwargs)


_COMPACT = json.JSONEncoder(separators=(",", ":"))


class SocketJSON:
    """The JSON module of the Socket.IO packets (python-socketio's ``json`` option)."""

    @staticmethod
    def dumps(obj: object, **kwargs) -> str:
        if kwargs == {"separators": (",", ":")}:  # every packet: one encoder, built once
            return _COMPACT.encode(obj)
        return json.dumps(obj, **kwargs)

    @staticmethod
    def loads(text: str | bytes, *args, **kwargs) -> object:
        try:
            return loads_bounded(text, **kwargs)
        except NestedTooDeeply:
            if isinstance(text, bytes | bytearray):
                text = text.decode("utf-8", "replace")
            match = _EVENT_NAME.match(text)
            if match is None:  # e.g. a connection's auth: refused as not an object
                return TOO_DEEP
            # The event's name is readable: let its handler answer with an error ack.
            return [json.loads(match.group(1)), TOO_DEEP]
