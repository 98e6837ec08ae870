"""Who a failed expectation blocks: attribution of error-severity failures to publication scopes.

Every GX asset's `scope_key` is the publishing scope a row belongs to: a reporting unit's rows carry its
province on today's boundaries, so an error-severity failure blocks only the provinces whose rows broke
the rule. A region or the nation is NOT blocked when the failure is explained by a province inside it
(the same expectation failed for that province): it still publishes, and `flagged_scopes` carries a flag
naming the blocked province(s). A region / the nation failing on its own (no province of it failed the
same expectation) is blocked. A failure whose rows name no publishing scope, or whose unexpected rows
were not all listed by GX (unexpected_count above the listed rows), sets `blocks_all` — nothing may be
published for the period then (lensan.quality.policy).
"""

from __future__ import annotations

import re

from lensan.settings import NATION_CODE

PUBLISH_SCOPE = re.compile(r"^(province|region|nation)-")


def _region_of_provinces() -> dict[str, str]:
    """post2025 province code -> region code (from the reference seeds)."""
    from lensan import reference

    return {code: prov["region_code"] for (map_version, code), prov in reference.provinces().items()
            if map_version == "post2025"}


def _province_names() -> dict[str, str]:
    from lensan import reference

    return {code: prov["province_name"] for (map_version, code), prov in reference.provinces().items()
            if map_version == "post2025"}


def failure_reason(failure: dict) -> str:
    """Why a scope is blocked: the expectation, its description and the rows concerned."""
    text = f"{failure['name']} ({failure.get('validation')})"
    if failure.get("description"):
        text += f" — {failure['description']}"
    return text


def attribute_scopes(summary: dict) -> None:
    """Fill blocked_scopes / flagged_scopes / blocks_all from the error-severity failures (see module doc)."""
    regions = _region_of_provinces()
    blocked: dict[str, str] = summary.setdefault("blocked_scopes", {})
    flagged: dict[str, str] = summary.setdefault("flagged_scopes", {})
    for failure in summary["failed"]:
        scopes = failure.get("affected_scopes") or []
        publishable = [s for s in scopes if PUBLISH_SCOPE.match(s)]
        if not publishable or failure.get("affected_scopes_truncated"):
            summary["blocks_all"] = True
        provinces = [s.partition("-")[2] for s in publishable if s.startswith("province-")]
        text = failure_reason(failure)
        for scope in publishable:
            level, _, code = scope.partition("-")
            explained = (level == "nation" and provinces) or \
                (level == "region" and any(regions.get(p) == code for p in provinces))
            if explained:
                continue  # the province(s) inside it carry the block; the aggregate gets a flag below
            blocked[scope] = f"{blocked[scope]}; {text}" if scope in blocked else text
    names = _province_names()
    for scope, reason in sorted(blocked.items()):
        if not scope.startswith("province-"):
            continue
        code = scope.partition("-")[2]
        note = (f"Số liệu gồm {names.get(code, 'tỉnh ' + code)} ({scope}) bị chặn công bố do lỗi chất lượng dữ liệu"
                f" / includes {scope}, blocked by the quality gate: {reason}")
        for aggregate in ([f"region-{regions[code]}"] if code in regions else []) + [f"nation-{NATION_CODE}"]:
            if aggregate in blocked:
                continue
            flagged[aggregate] = f"{flagged[aggregate]}; {note}" if aggregate in flagged else note
