"""Reporting-unit codes as typed: zero-padding and validation against the map of the period."""

from __future__ import annotations

import re

from lensan import reference
from lensan.landing.errors import LandingError

WIDTH = {"pre2025": 3, "post2025": 5}
OTHER = {"pre2025": "post2025", "post2025": "pre2025"}


def code_text(value: object) -> str | None:
    """A code cell as text: 205 / 205.0 / ' 205 ' -> '205'; None when blank."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    # '205 (Đông Triều)', '07090 - Phường An Sinh': the leading digits are the code
    match = re.match(r"^(\d+)(?:\s*[-–(:,]\s*\D.*|\s+\D.*)$", text)
    if match:
        text = match[1]
    return text or None


def pad(code: str, map_version: str) -> str:
    width = WIDTH[map_version]
    return code.zfill(width) if code.isdigit() and len(code) < width else code


def resolve_reporting_unit(code: str, map_versions: list[str], period: str,
                           where: tuple[str, str] | None = None) -> tuple[str, str]:
    """(zero-padded code, map_version) of a reporting unit valid for the period's map(s).

    `map_versions` lists the acceptable maps, the primary first (two only for the week that
    straddles the reform). WRONG_MAP_UNIT when the code is a reporting unit of the other map only.
    """
    primary = map_versions[0]
    if code.isdigit():
        for map_version in map_versions:
            padded = pad(code, map_version)
            if reference.reporting_unit(map_version, padded):
                return padded, map_version
        other = OTHER[primary]
        if other not in map_versions and reference.reporting_unit(other, pad(code, other)):
            raise LandingError("WRONG_MAP_UNIT", where, code=code, map_version=primary, other_map=other,
                               period=period)
    raise LandingError("UNKNOWN_UNIT", where, code=code, map_version=primary, period=period)
