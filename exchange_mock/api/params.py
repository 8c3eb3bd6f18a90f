"""A request's Binance parameters, read from the raw request rather than by FastAPI.

Binance accepts parameters in the query string, in an `x-www-form-urlencoded` body, or split
between the two, with the query string winning on a clash. Parsing here, once per request, keeps
FastAPI from validating (and documenting) parameters it does not understand, and gives every
error Binance's code and wording.
"""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import parse_qsl

from starlette.requests import Request

from exchange_mock.errors import Code, ExchangeError
from exchange_mock.symbols import SymbolSpec, SymbolTable

_DECIMAL = re.compile(r"-?[0-9]{1,20}(\.[0-9]{1,20})?")
_DECIMAL_RANGE = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
_INTEGER = re.compile(r"-?[0-9]{1,20}")
_INTEGER_RANGE = r"^[0-9]{1,20}$"
_LONG = range(-(2**63), 2**63)
"""Binance's integers are Java longs: one outside is as illegal as a letter."""


def missing(name: str) -> ExchangeError:
    return ExchangeError(
        Code.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
        f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
    )


def invalid(name: str) -> ExchangeError:
    return ExchangeError(Code.INVALID_PARAMETER, f"Data sent for parameter '{name}' is not valid.")


def _illegal(name: str, legal_range: str) -> ExchangeError:
    return ExchangeError(
        Code.ILLEGAL_CHARS,
        f"Illegal characters found in parameter '{name}'; legal range is '{legal_range}'.",
    )


def _pairs(raw: bytes) -> list[tuple[str, str]]:
    """`name=value&...` as `parse_qsl(keep_blank_values=True)` reads it. Clients send plain
    pairs almost always, and every signed request parses them: those skip the unquoting."""
    text = raw.decode("utf-8", "replace")
    if "%" in text or "+" in text:
        return parse_qsl(text, keep_blank_values=True)
    return [(name, value) for name, _, value in (p.partition("=") for p in text.split("&") if p)]


class Params:
    """Parameter values by name; an empty value counts as not sent, as on Binance."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, str]) -> None:
        self._values = values

    @classmethod
    def parse(cls, query: bytes, body: bytes = b"") -> Params:
        values = dict(_pairs(body)) if body else {}
        if query:
            values.update(_pairs(query))
        return cls(values)

    def __contains__(self, name: str) -> bool:
        return bool(self._values.get(name))

    def text(self, name: str) -> str | None:
        return self._values.get(name) or None

    def require(self, name: str) -> str:
        value = self._values.get(name)
        if not value:
            raise missing(name)
        return value

    def integer(self, name: str) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        if not _INTEGER.fullmatch(value) or (number := int(value)) not in _LONG:
            raise _illegal(name, _INTEGER_RANGE)
        return number

    def require_integer(self, name: str) -> int:
        value = self.integer(name)
        if value is None:
            raise missing(name)
        return value

    def limit(self, default: int, most: int) -> int:
        """`limit` from 1 up, `default` when not sent; past the endpoint's maximum, the
        maximum."""
        limit = self.integer("limit")
        if limit is None:
            return default
        if limit < 1:
            raise invalid("limit")
        return min(limit, most)

    def decimal(self, name: str) -> Decimal | None:
        """A decimal as written, sign allowed so the caller can answer a negative with its own
        code (Binance's -4001/-4003) rather than a parse error."""
        value = self.text(name)
        if value is None:
            return None
        if not _DECIMAL.fullmatch(value):
            raise _illegal(name, _DECIMAL_RANGE)
        return Decimal(value)

    def require_decimal(self, name: str) -> Decimal:
        value = self.decimal(name)
        if value is None:
            raise missing(name)
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        raise invalid(name)

    def symbol(self, table: SymbolTable) -> SymbolSpec:
        spec = self.optional_symbol(table)
        if spec is None:
            raise missing("symbol")
        return spec

    def optional_symbol(self, table: SymbolTable) -> SymbolSpec | None:
        name = self.text("symbol")
        if name is None:
            return None
        spec = table.get(name)
        if spec is None:
            raise ExchangeError(Code.BAD_SYMBOL, "Invalid symbol.")
        return spec


def query_params(request: Request) -> Params:
    """The parameters of a public (unsigned) request, which Binance takes from the query."""
    return Params.parse(request.scope["query_string"])
