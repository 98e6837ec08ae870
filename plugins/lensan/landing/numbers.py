"""Numbers as people type them in Vietnamese spreadsheets.

`1.234` (thousands dot) → 1234, `12,5` (decimal comma) → 12.5, `1.234,5` → 1234.5, `15%` → 15,
`-15,5%` → -15.5; blank, `-`, `–` → None (not reported — never 0). Numeric cells pass through.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

NOT_REPORTED = {"", "-", "–", "—", "−"}

_SIGN = re.compile(r"^([+\-−–]?)\s*(.*)$")
_DOT_THOUSANDS = re.compile(r"^\d{1,3}(?:\.\d{3})+(?:,\d+)?$")     # 1.234 / 1.234.567 / 1.234,5
_SPACE_THOUSANDS = re.compile(r"^\d{1,3}(?: \d{3})+(?:,\d+)?$")    # 1 234 / 1 234,5
_COMMA_DECIMAL = re.compile(r"^\d+(?:,\d+)?$")                     # 12 / 12,5
_DOT_DECIMAL = re.compile(r"^\d+\.\d+$")                           # 12.5 (not a 3-digit group)


class NotANumber(ValueError):
    """The text is not a number in any accepted notation; `.text` is the offending text."""

    def __init__(self, text: str):
        self.text = text
        super().__init__(f"not a number: {text!r}")


def parse_vn_number(value: object) -> Decimal | None:
    """Decimal value of a typed cell, None when not reported; raises NotANumber otherwise."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise NotANumber(str(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NotANumber(str(value))
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotANumber(str(value))
        number = Decimal(repr(value))
        return number.to_integral_value() if number == number.to_integral_value() else number
    text = str(value).replace("\u00a0", " ").replace("\u202f", " ").strip()
    if text in NOT_REPORTED:
        return None
    body = text
    if body.endswith("%"):
        body = body[:-1].rstrip()
    match = _SIGN.match(body)
    sign, body = match[1], match[2].strip()
    if not body:
        raise NotANumber(text)
    if _DOT_THOUSANDS.match(body):
        normalised = body.replace(".", "").replace(",", ".")
    elif _SPACE_THOUSANDS.match(body):
        normalised = body.replace(" ", "").replace(",", ".")
    elif _COMMA_DECIMAL.match(body):
        normalised = body.replace(",", ".")
    elif _DOT_DECIMAL.match(body):
        normalised = body
    else:
        raise NotANumber(text)
    try:
        number = Decimal(normalised)
    except InvalidOperation:  # pragma: no cover - the patterns only let digits through
        raise NotANumber(text) from None
    return -number if sign and sign != "+" else number
