"""One person, one identity: the canonical form of a phone number or a citizen ID, whatever the source.

A household links to its shops and buyers by the pseudonym of its phone (DOMAIN.md §S2), so every
source — the register (CSV text or XLSX number cell), the weekly form, postmart's CSV, voso's JSON —
must turn one number into one text before it is hashed (`pseudonymise`). The rules live here only.

Phones (`phone`): read by `phonenumbers` with region VN, so `+84 (0) 971 074 803`, `0084 971074803`,
`+84-97-107-4803`, `(097) 107.4803`, a mobile that lost its leading 0 (`971074803`, an Excel number
cell, int or float, or its text `971074803.0`) and `84971074803` are one number. A valid number becomes:
  * a Vietnamese one: `0` + its national number (`0971074803`), the E.164 number in national digits.
    This is exactly the text lensan hashed before for the usual spellings, so pseudonyms already in a
    warehouse stay the same (no re-landing on upgrade);
  * a foreign one: E.164 (`+66812345678`).
A value phonenumbers cannot read or finds invalid is kept, never dropped: its digits, with a leading
`84` of 11+ digits turned into `0` (lensan's rule before phonenumbers), so the same typing still links.

Citizen IDs (`citizen_id`): digits only (separators, a label, a float's `.0` dropped), then
  * CCCD: 12 digits, a 3-digit province code 001–096 first. A CSV/Excel cell that lost its leading
    zeros has 10 (codes 001–009) or 11 (010–096) digits: left-padded to 12;
  * CMND (the old 9-digit ID; 8 digits when it lost its leading 0): its own namespace `cmnd:…`, never
    padded into a CCCD, so it can never share a pseudonym with one;
  * anything else: `other:<digits>` (kept, hashed, distinct from both).

`phone_series` is the vectorised form for the fast landing path: the usual spellings (`0` or `+84`,
then 9 digits, spaces/dots/dashes/parentheses anywhere) are decided by a regular expression built from
phonenumbers' own metadata; every other distinct value goes through `phone`. tests/test_identity.py
checks both against each other and every written form of one number against one result.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

import phonenumbers

if TYPE_CHECKING:
    import polars as pl

REGION = "VN"
COUNTRY_CODE = 84
CCCD_LENGTH = 12
CMND_LENGTH = 9
CCCD_PROVINCES = range(1, 97)         # the 3-digit province code of a CCCD: 001–096
CMND_PREFIX = "cmnd:"
OTHER_ID_PREFIX = "other:"

_NON_DIGIT = re.compile(r"\D")
# a number cell written as text ('971074803.0', as Python, pandas and voso's JSON floats print it): only
# `.0` after 8+ digits, so a number grouped with dots ('843.000000', '0912.345.000') is never cut
_FLOAT_TEXT = re.compile(r"^([1-9][0-9]{7,})\.0$")
# The usual spellings, decided without phonenumbers' parser (same result, ~20x faster): separators
# removed, `0` or `+84` and 9 digits that phonenumbers' VN metadata calls a valid number.
_SEPARATORS = r"[ .()\-]"
_USUAL = r"^(?:0|\+84)([0-9]{9})$"
_SEPARATORS_RE = re.compile(_SEPARATORS)
_USUAL_RE = re.compile(_USUAL)


def _cell_text(value: object) -> str:
    """The text of a cell: an int/float number cell without its `.0`, text stripped."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _without_float_zero(text: str) -> str | None:
    """'971074803' for the text '971074803.0' (a number cell written as text), else None."""
    match = _FLOAT_TEXT.fullmatch(text)
    return match[1] if match else None


def _digits(text: str) -> str:
    """ASCII digits of `text` (any Unicode decimal digit counts, as `\\d` does)."""
    return "".join(str(int(c)) for c in _NON_DIGIT.sub("", text))


def phone(value: object) -> str | None:
    """The canonical text of a phone number (module docstring); None when it has no digit."""
    if value is None:
        return None
    text = _cell_text(value)
    usual = _USUAL_RE.fullmatch(_SEPARATORS_RE.sub("", text))
    if usual and valid_9_digit_national(usual[1]):
        return "0" + usual[1]
    # '971074803.0' is most likely a number cell written as text: read so first, then as typed (dots as
    # separators: '84 3000 0000.0' is 0300000000, 8430000000 being no valid number)
    as_float = _without_float_zero(text)
    for candidate in (as_float, text) if as_float else (text,):
        valid = _valid_number(candidate)
        if valid:
            return valid
    digits = _digits(as_float or text)
    if digits.startswith("84") and len(digits) >= 11:
        digits = "0" + digits[2:]
    return digits or None


def _valid_number(text: str) -> str | None:
    """The canonical text of `text` when phonenumbers reads a valid number in it, else None."""
    try:
        number = phonenumbers.parse(text, REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if number.country_code == COUNTRY_CODE:
        return "0" + phonenumbers.national_significant_number(number)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def citizen_id(value: object) -> str | None:
    """The canonical text of a citizen ID (module docstring); None when it has no digit."""
    if value is None:
        return None
    text = _cell_text(value)
    digits = _digits(_without_float_zero(text) or text)
    if not digits:
        return None
    if len(digits) in (CCCD_LENGTH - 2, CCCD_LENGTH - 1) and digits[0] != "0":
        digits = digits.zfill(CCCD_LENGTH)          # leading zeros of the province code lost
    if len(digits) == CCCD_LENGTH and int(digits[:3]) in CCCD_PROVINCES:
        return digits
    if len(digits) == CMND_LENGTH - 1 and digits[0] != "0":
        digits = "0" + digits
    if len(digits) == CMND_LENGTH:
        return CMND_PREFIX + digits
    return OTHER_ID_PREFIX + digits


@lru_cache(maxsize=1)
def valid_vn_9_digit_patterns() -> tuple[str, str]:
    """(general, any type) anchored patterns a valid 9-digit VN national number matches, from the same
    metadata `phonenumbers.is_valid_number` reads (a number is valid when it matches the general
    description and one number type whose possible lengths include its own)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(REGION)
    general = metadata.general_desc
    types = []
    for name in ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan",
                 "voicemail", "fixed_line", "mobile"):
        desc = getattr(metadata, name)
        if desc is None or not desc.national_number_pattern:
            continue
        lengths = desc.possible_length or general.possible_length
        if 9 in lengths:
            types.append(desc.national_number_pattern)
    return f"^(?:{general.national_number_pattern})$", "^(?:" + "|".join(f"(?:{p})" for p in types) + ")$"


@lru_cache(maxsize=1)
def _compiled_patterns() -> tuple[re.Pattern, re.Pattern]:
    general, typed = valid_vn_9_digit_patterns()
    return re.compile(general, re.ASCII), re.compile(typed, re.ASCII)


def valid_9_digit_national(nsn: str) -> bool:
    """True when the 9 ASCII digits are a valid VN national number (a mobile, mostly) for phonenumbers."""
    general, typed = _compiled_patterns()
    return general.fullmatch(nsn) is not None and typed.fullmatch(nsn) is not None


def phone_series(raw: "pl.Series") -> "pl.Series":
    """`phone(v)` of every value of a string series ('' → None), computed once per distinct value that
    the vectorised rule (usual spellings of a valid VN number) does not decide."""
    import polars as pl

    general, typed = valid_vn_9_digit_patterns()
    name = raw.name
    frame = raw.rename("raw").to_frame().with_columns(pl.col("raw").str.replace_all(_SEPARATORS, "").alias("c"))
    frame = frame.with_columns(pl.col("c").str.extract(_USUAL, 1).alias("nsn")).with_columns(
        pl.when(pl.col("nsn").str.contains(general) & pl.col("nsn").str.contains(typed))
        .then(pl.lit("0") + pl.col("nsn")).alias("canonical"))
    undecided = frame.filter(pl.col("canonical").is_null() & (pl.col("raw") != "")).get_column("raw").unique()
    if undecided.len():
        mapping = dict(zip(undecided.to_list(), map(phone, undecided.to_list())))
        frame = frame.with_columns(pl.coalesce(
            pl.col("canonical"), pl.col("raw").replace_strict(mapping, default=None, return_dtype=pl.String)))
    return frame.get_column("canonical").rename(name)
