"""Which published periods the data changed since earlier periods were last revised.

The weekly DAG used to gate and publish again every week published before (52 gates a Thursday after
a year). It now revises only the periods the new data can change, read from the change driver of the
incremental build (`intermediate.int_indicators__changes`, dbt_project/macros/incremental.sql: per
landed file of the last build, the earliest local date its rows can change) and the weeks of the
weekly forms landed since. A period changes when it ends on or after that date (cumulative values,
growth against the previous period and stock levels carry a change forward) or holds such a form.

`ops.revision_watermarks` keeps, per period type, the newest landed file of the build the marts
reflected at the last successful revision pass (and that build's time). Everything published counts
as changed when the driver cannot say: no watermark yet (the first pass), the watermark's file gone
(raw reset, re-landing), a file withdrawn since that build, the build watermarks reset with no build
since (nothing is recorded then), or files landed since the watermark that the driver no longer lists
(several builds between two passes). Reference data or model changes are
not data changes (as for the incremental build): re-publish those periods by hand (`lensan publish`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

DRIVER = "intermediate.int_indicators__changes"


@dataclass(frozen=True)
class Changed:
    """The periods of one type to revise, and the watermark to record once they are revised."""

    period_type: str
    keys: frozenset[str]              # periods whose data changed (when not `everything`)
    everything: str | None            # why every published period counts as changed, else None
    upto_file_id: int | None          # the newest landed file of the build the marts reflect
    upto_sha256: str | None
    built_at: object | None           # that build's time (ops.build_watermarks), a datetime

    def select(self, published: list[str]) -> list[str]:
        """The published period keys to revise, in order."""
        return sorted(published) if self.everything else sorted(k for k in published if k in self.keys)


def _one(cur, query: str, args: tuple = ()):
    cur.execute(query, args)
    return cur.fetchone()


def since_last_revision(cur, period_type: str) -> Changed:
    """The periods of `period_type` changed since the last recorded revision pass (see the module doc)."""
    if _one(cur, "select to_regclass(%s)", (DRIVER,))[0] is None:
        return Changed(period_type, frozenset(), "no incremental build yet", None, None, None)
    # the build saw every file up to the driver's newest; the watermark is a landed file (a delivery
    # drawn from the same sequence may sort after it: it is then looked at again next time)
    driver_max = _one(cur, f"select max(file_id) from {DRIVER}")[0]
    upto_file_id, upto_sha256 = _one(cur, """
        select f.file_id, f.sha256 from raw.landed_files as f where f.file_id <= %s
        order by f.file_id desc limit 1""", (driver_max,)) or (None, None)
    built_at = _one(cur, "select min(built_at) from ops.build_watermarks")[0]
    if built_at is None:   # reset by a withdrawal or a re-delivery: the marts do not show it yet; nothing recorded
        return Changed(period_type, frozenset(), "the build watermarks were reset, no build since", None, None, None)
    mark = _one(cur, """
        select w.upto_file_id, w.built_at, f.file_id is not null
        from ops.revision_watermarks as w
        left join raw.landed_files as f on f.file_id = w.upto_file_id and f.sha256 is not distinct from w.upto_sha256
        where w.period_type = %s""", (period_type,))
    found = Changed(period_type, frozenset(), None, upto_file_id, upto_sha256, built_at)
    if upto_file_id is None:
        return replace(found, everything="no landed file in the last build")
    if mark is None:
        return replace(found, everything="no earlier revision pass recorded")
    since, since_built, valid = mark
    if not valid:
        return replace(found, everything="the recorded file is gone (raw reset or re-landed)")
    if _one(cur, "select exists (select 1 from raw.landed_files where withdrawn_at > %s)", (since_built,))[0]:
        return replace(found, everything="a file was withdrawn since")
    # a platform or register file after the watermark that the driver no longer lists (it lists the
    # files of the last build only): the changes of an earlier build were not seen
    if _one(cur, f"""
        select exists (select 1 from raw.landed_files as f
                       where f.file_id > %s and f.file_id < (select min(file_id) from {DRIVER})
                         and f.status = 'loaded' and f.withdrawn_at is null and f.source <> 'weekly_form')""",
            (since,))[0]:
        return replace(found, everything="files of an earlier build not seen by a revision pass")
    cur.execute(f"""
        with changed as (
            select min(changed_from) as changed_from from {DRIVER}
            where file_id > %(since)s and file_id <= %(upto)s
        ),
        form_weeks as (
            select f.period_key from raw.landed_files as f
            where f.source = 'weekly_form' and f.status = 'loaded' and f.period_key is not null
              and f.file_id > %(since)s and f.file_id <= %(upto)s
            union
            select d.period_key from raw.deliveries as d
            join raw.landed_files as f on f.file_id = d.file_id and f.source = 'weekly_form'
            where d.period_key is not null and d.delivery_id > %(since)s and d.delivery_id <= %(upto)s
        )
        select p.period_key from marts.dim_period as p
        where p.period_type = %(type)s
          and (p.period_end >= (select changed_from from changed)
               or exists (select 1 from marts.dim_period as w join form_weeks as fw on fw.period_key = w.period_key
                          where w.period_type = 'week'
                            and w.period_start <= p.period_end and w.period_end >= p.period_start))""",
                {"since": since, "upto": driver_max, "type": period_type})
    return replace(found, keys=frozenset(k for (k,) in cur.fetchall()))


def record(cur, changed: Changed) -> None:
    """Record a successful revision pass: the next pass looks at what landed after `changed`."""
    if changed.upto_file_id is None:
        return
    cur.execute("""
        insert into ops.revision_watermarks as w (period_type, upto_file_id, upto_sha256, built_at, recorded_at)
        values (%s, %s, %s, %s, now())
        on conflict (period_type) do update
            set upto_file_id = excluded.upto_file_id, upto_sha256 = excluded.upto_sha256,
                built_at = excluded.built_at, recorded_at = excluded.recorded_at""",
                (changed.period_type, changed.upto_file_id, changed.upto_sha256, changed.built_at))
