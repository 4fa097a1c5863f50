"""What every test's app compiles the same way, compiled once per test process.

The tests build hundreds of apps (one per test, so that no state leaks between them). Most of
an app's build is werkzeug compiling a URL builder for each of its routes (some 800, two
builders each) from a generated syntax tree, and most of its first pages is Jinja compiling
the templates again, in the new app's own environment. Both give the same code each time:

- URL builders are kept by what they are made of (the rule and its parsed parts). A builder
  is a plain function that receives the rule (and reads its converters from it), so rules of
  different apps share one safely. A rule whose defaults fill one of its own variables bakes
  that value in: it is compiled as usual, not kept.
- Templates go through one in-memory Jinja bytecode cache (keyed by the template's name and
  checked against its source, as Jinja's own file cache is).
"""

from __future__ import annotations

import jinja2
from werkzeug.routing.rules import Rule

_builders: dict[tuple, object] = {}
_original = getattr(Rule, "_compile_builder", None)


def _cached_compile_builder(self: Rule, append_unknown: bool = True):
    defaults = self.defaults or {}
    if any(name in self._converters for name in defaults):
        return _original(self, append_unknown)
    key = (self.rule, tuple(self._trace), tuple(str(name) for name in defaults),
           append_unknown)
    builder = _builders.get(key)
    if builder is None:
        builder = _builders[key] = _original(self, append_unknown)
    return builder


def install() -> None:
    """Compile each distinct URL builder once per test process (idempotent). Should werkzeug
    stop building rules this way, apps are built as they come."""
    if _original is not None and Rule._compile_builder is _original:
        Rule._compile_builder = _cached_compile_builder


class _MemoryBytecodeCache(jinja2.BytecodeCache):
    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)  # ignored by Jinja if the source changed

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = _MemoryBytecodeCache()


def share_templates(app) -> None:
    """The app's Jinja environment compiles each template once per test process."""
    app.jinja_env.bytecode_cache = TEMPLATES
