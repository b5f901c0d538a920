"""The small query language shared by ``q=``, ``where=`` and Platform ``filter=``.

Grammar: conditions joined by ``AND`` and ``OR`` (AND binds tighter); a condition is
``field = value``, ``!=``, ``<``, ``>``, ``<=``, ``>=``, ``[NOT] IN (v, …)`` or
``[NOT] LIKE value`` (``%`` and ``_`` wildcards). Values are quoted strings or bare words
(``True``, ``42``). Field names match case-insensitively; values compare as strings, with
booleans as ``true``/``false``, and ``<``/``>`` numerically when both sides are numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op><=|>=|!=|=|<|>)
      | (?P<paren>[(),])
      | (?P<word>[^\s()=<>!,"']+)
    )""",
    re.VERBOSE,
)


class FilterSyntaxError(ValueError):
    """The filter text cannot be parsed."""


@dataclass(frozen=True, slots=True)
class Condition:
    """One ``field op value(s)`` test."""

    field: str
    op: str
    values: tuple[str, ...]

    def test(self, item: Mapping[str, object]) -> bool:
        """Whether *item* satisfies the condition (a missing field never does)."""
        actual = _lookup(item, self.field)
        if actual is _MISSING:
            return False
        text = _normalise(actual)
        return _OPS[self.op](text, self.values)


@dataclass(frozen=True, slots=True)
class Filter:
    """A parsed filter: a disjunction of conjunctions."""

    clauses: tuple[tuple[Condition, ...], ...]

    def test(self, item: Mapping[str, object]) -> bool:
        """Whether *item* matches."""
        return any(all(c.test(item) for c in clause) for clause in self.clauses)

    def equals(self, field: str) -> str | None:
        """The value of a lone ``field = value`` condition, if that is all there is."""
        if len(self.clauses) == 1 and len(self.clauses[0]) == 1:
            cond = self.clauses[0][0]
            if cond.field.lower() == field.lower() and cond.op == "=":
                return cond.values[0]
        return None

    def values_of(self, field: str) -> tuple[str, ...] | None:
        """Values named by ``field = v`` or ``field IN (…)`` in a single conjunction."""
        if len(self.clauses) != 1:
            return None
        for cond in self.clauses[0]:
            if cond.field.lower() == field.lower() and cond.op in ("=", "IN"):
                return cond.values
        return None


def parse_filter(text: str) -> Filter:
    """Parse filter text; raises :class:`FilterSyntaxError`."""
    tokens = _tokenise(text)
    if not tokens:
        raise FilterSyntaxError("empty filter")
    parser = _Parser(tokens)
    clauses = [parser.conjunction()]
    while parser.take_word("OR"):
        clauses.append(parser.conjunction())
    if not parser.done():
        raise FilterSyntaxError(f"unexpected {parser.peek()!r}")
    return Filter(tuple(clauses))


_MISSING = object()


def _lookup(item: Mapping[str, object], field: str) -> object:
    if field in item:
        return item[field]
    lowered = field.lower()
    for key, value in item.items():
        if key.lower() == lowered:
            return value
    return _MISSING


def _normalise(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _compare(sign: int) -> Callable[[str, tuple[str, ...]], bool]:
    def test(actual: str, values: tuple[str, ...]) -> bool:
        left, right = _number(actual), _number(values[0])
        if left is not None and right is not None:
            diff = (left > right) - (left < right)
        else:
            diff = (actual > values[0]) - (actual < values[0])
        return diff == sign or (sign == 2 and diff >= 0) or (sign == -2 and diff <= 0)

    return test


def _like(actual: str, values: tuple[str, ...]) -> bool:
    pattern = "".join(
        ".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in values[0]
    )
    return re.fullmatch(pattern, actual, re.IGNORECASE | re.DOTALL) is not None


_OPS: Mapping[str, Callable[[str, tuple[str, ...]], bool]] = {
    "=": lambda a, v: a == v[0],
    "!=": lambda a, v: a != v[0],
    ">": _compare(1),
    "<": _compare(-1),
    ">=": _compare(2),
    "<=": _compare(-2),
    "IN": lambda a, v: a in v,
    "NOT IN": lambda a, v: a not in v,
    "LIKE": _like,
    "NOT LIKE": lambda a, v: not _like(a, v),
}


def _tokenise(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise FilterSyntaxError(f"cannot read filter at {text[pos:]!r}")
        kind = match.lastgroup or "word"
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self._tokens = tokens
        self._pos = 0

    def done(self) -> bool:
        return self._pos >= len(self._tokens)

    def peek(self) -> str:
        return "end of filter" if self.done() else self._tokens[self._pos][1]

    def _next(self) -> tuple[str, str]:
        if self.done():
            raise FilterSyntaxError("unexpected end of filter")
        token = self._tokens[self._pos]
        self._pos += 1
        return token

    def take_word(self, word: str) -> bool:
        if not self.done():
            kind, text = self._tokens[self._pos]
            if kind == "word" and text.upper() == word:
                self._pos += 1
                return True
        return False

    def conjunction(self) -> tuple[Condition, ...]:
        conditions = [self.condition()]
        while self.take_word("AND"):
            conditions.append(self.condition())
        return tuple(conditions)

    def condition(self) -> Condition:
        kind, field = self._next()
        if kind != "word":
            raise FilterSyntaxError(f"expected a field name, got {field!r}")
        negated = self.take_word("NOT")
        if self.take_word("IN"):
            return Condition(field, "NOT IN" if negated else "IN", self._value_list())
        if self.take_word("LIKE"):
            return Condition(field, "NOT LIKE" if negated else "LIKE", (self._value(),))
        if negated:
            raise FilterSyntaxError("NOT must be followed by IN or LIKE")
        kind, op = self._next()
        if kind != "op":
            raise FilterSyntaxError(f"expected an operator after {field!r}, got {op!r}")
        return Condition(field, op, (self._value(),))

    def _value(self) -> str:
        kind, text = self._next()
        if kind == "string":
            return re.sub(r"\\(.)", r"\1", text[1:-1])
        if kind == "word":
            return text.lower() if text.lower() in ("true", "false") else text
        raise FilterSyntaxError(f"expected a value, got {text!r}")

    def _value_list(self) -> tuple[str, ...]:
        if self._next() != ("paren", "("):
            raise FilterSyntaxError("IN must be followed by (")
        values = [self._value()]
        while True:
            kind, text = self._next()
            if (kind, text) == ("paren", ")"):
                return tuple(values)
            if (kind, text) != ("paren", ","):
                raise FilterSyntaxError(f"expected , or ) in a list, got {text!r}")
            values.append(self._value())
