"""Narrow activity columns beside each user's quarter-hour bitmap, so distinct users over
a range are mostly an index-only scan (usage_stats/dashboards/sql.py): bit d of `days` is
set when the user had an event on day d + 1 (UTC) of the row's month, and `first_q` and
`last_q` are the first and last quarter-hours with an event (bit indexes of `quarters`).
A user whose first or last quarter-hour lies in the range, or with an event on a day the
range covers whole, is active; one whose activity ends before it or starts after it is
not; the 372-byte bitmap is cut only for the rest. `prev_last_q` is the user's `last_q` of
the month before (-1: no row), so a range over two months counts each user once without a
DISTINCT: a user of the second month is counted there only if it had no event in the first
month's part of the range, which runs to that month's end. `blocks_lo` and `blocks_hi` have
bit k set for an event in the month's six-hour block k (UTC 00:00, 06:00, 12:00, 18:00;
blocks 0-61, then 62-123 as bit k - 62), so a local day that covers no UTC day whole (an
Asia/Kathmandu day covers three blocks of one) still decides most users without the bitmap.

Filled from the quarter-hour bitmaps already stored (exact: a day is active if one of its
96 quarter-hours is), so no rebuild from raw events is needed and months whose raw
partitions retention dropped keep their figures. The covering index replaces 0003's
(month, tenant_id) one. On Citus the column, the update and the index propagate to the
table's shards (usage_rollup_user_month is distributed by tenant_id, migration 0005).

Literal DDL, frozen here (see 0001).
"""

from django.db import migrations

ADD_DAYS = """
    ALTER TABLE "usage_rollup_user_month" ADD COLUMN IF NOT EXISTS days integer NOT NULL DEFAULT 0;
    ALTER TABLE "usage_rollup_user_month" ADD COLUMN IF NOT EXISTS first_q smallint NOT NULL DEFAULT 0;
    ALTER TABLE "usage_rollup_user_month" ADD COLUMN IF NOT EXISTS last_q smallint NOT NULL DEFAULT 0;
    ALTER TABLE "usage_rollup_user_month" ADD COLUMN IF NOT EXISTS prev_last_q smallint NOT NULL DEFAULT -1;
    ALTER TABLE "usage_rollup_user_month" ADD COLUMN IF NOT EXISTS blocks_lo bigint NOT NULL DEFAULT 0;
    ALTER TABLE "usage_rollup_user_month" ADD COLUMN IF NOT EXISTS blocks_hi bigint NOT NULL DEFAULT 0;
    """

FILL_DAYS = """
    UPDATE "usage_rollup_user_month" SET days = (
        SELECT coalesce(sum(1 << d), 0)::integer FROM generate_series(0, 30) AS d
        WHERE bit_count(substring(quarters FROM d * 96 + 1 FOR 96)) > 0
    ), blocks_lo = (
        SELECT coalesce(sum(1::bigint << k), 0)::bigint FROM generate_series(0, 61) AS k
        WHERE bit_count(substring(quarters FROM k * 24 + 1 FOR 24)) > 0
    ), blocks_hi = (
        SELECT coalesce(sum(1::bigint << (k - 62)), 0)::bigint FROM generate_series(62, 123) AS k
        WHERE bit_count(substring(quarters FROM k * 24 + 1 FOR 24)) > 0
    ), first_q = position(B'1' IN quarters) - 1,
       last_q = length(quarters) - position('1' IN reverse(quarters::text));
    UPDATE "usage_rollup_user_month" n SET prev_last_q = p.last_q
    FROM "usage_rollup_user_month" p
    WHERE p.tenant_id = n.tenant_id AND p.user_id = n.user_id
      AND p.month = (n.month - interval '1 month')::date;
    """

INDEX_DAYS = """
    CREATE INDEX IF NOT EXISTS "usage_rollup_user_month_days_idx" ON "usage_rollup_user_month" (month, tenant_id)
        INCLUDE (user_id, days, first_q, last_q, prev_last_q);
    DROP INDEX IF EXISTS "usage_rollup_user_month_month_idx";
    """

DROP_DAYS = """
    CREATE INDEX IF NOT EXISTS "usage_rollup_user_month_month_idx" ON "usage_rollup_user_month" (month, tenant_id);
    DROP INDEX IF EXISTS "usage_rollup_user_month_days_idx";
    ALTER TABLE "usage_rollup_user_month" DROP COLUMN IF EXISTS days, DROP COLUMN IF EXISTS first_q,
        DROP COLUMN IF EXISTS last_q, DROP COLUMN IF EXISTS prev_last_q, DROP COLUMN IF EXISTS blocks_lo,
        DROP COLUMN IF EXISTS blocks_hi;
    """

UPGRADE = (ADD_DAYS, FILL_DAYS, INDEX_DAYS)


def _each(script: str) -> list[str]:
    """One statement per query: Citus forwards a DDL statement's query text to every shard,
    and a text of two statements is refused there."""
    return [s.strip() for s in script.split(";\n") if s.strip()]


class Migration(migrations.Migration):
    # One statement per transaction, like 0005: on Citus a multi-shard UPDATE after an
    # ALTER TABLE in the same transaction would need the same connections per placement.
    atomic = False
    dependencies = [("usage_stats", "0005_citus_distribution")]
    operations = [
        migrations.RunSQL(_each(ADD_DAYS), _each(DROP_DAYS)),
        migrations.RunSQL(_each(FILL_DAYS), migrations.RunSQL.noop),
        migrations.RunSQL(_each(INDEX_DAYS), migrations.RunSQL.noop),
    ]
