"""Spare tenant schemas: copies of the template made ahead of sign-ups.

Copying the template is most of a sign-up's time: about 50 ms on one PostgreSQL server at
1,000 tenants (72 tables, sequences and indexes, and the tenant's role and grants), and
hundreds of ms on Citus, where each table of a distributed schema is also created on a
worker and in every node's metadata. So TENANT_SPARE_SCHEMAS copies are kept ready, each
a schema `t_<hex>` with its role and grants and a SpareSchema row: a sign-up takes one in
its own transaction (DELETE ... RETURNING, SKIP LOCKED, so concurrent sign-ups take
different ones and never wait), names its tenant's schema after it, and on commit queues
the job that makes the next one. With no spare at hand (a burst of sign-ups, or right
after a deploy) a sign-up copies the template itself, as with TENANT_SPARE_SCHEMAS = 0.

A spare records the migrations it was copied at (`migrations_key`, a digest of the code's
migration graph, which template_ensure applies to the template first): a sign-up takes only
a spare of the code that runs it, and the refill drops others, so a
tenant never starts behind the code (`migrate_schemas` does not visit spares: they are no
tenants yet). Taking a spare also changes no role, so it does not make every connection
recompute its role memberships (about 6 ms at 1,000 tenant roles) as creating one does.
"""

import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import schema_exists
from psycopg2 import sql

from core.db.roles import owner_role, tenant_role_drop
from core.jobs import job_enqueue_on_commit

from ..models import SpareSchema
from ..template import schema_create_from_template, template_ensure, template_migrations_key

logger = logging.getLogger(__name__)

SPARE_PREFIX = "t_"  # slugs have no underscores: a spare's name is never a slug
# pg_try_advisory_xact_lock key: one refill makes a spare at a time.
REFILL_LOCK_KEY = 0x7370617265  # "spare"

_SPARES = SpareSchema._meta.db_table
_CLAIM = f"""
    DELETE FROM {_SPARES} WHERE id = (
        SELECT s.id FROM {_SPARES} s
        WHERE s.migrations_key = %s
          AND EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspname = s.schema_name)
        ORDER BY s.id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING schema_name
"""  # noqa: S608 (a model's table name)


@dataclass(frozen=True)
class SpareRefill:
    made: list[str]
    dropped: list[str]
    ready: int
    busy: bool = False  # another refill held the lock


def spares_enabled() -> bool:
    return settings.TENANT_SPARE_SCHEMAS > 0


def spares_refill_enqueue() -> None:
    """Queue the refill job (after a sign-up took a spare, or found none)."""
    from ..tasks import spare_schemas_refill_job

    job_enqueue_on_commit(spare_schemas_refill_job)


def spare_schema_claim() -> str | None:
    """Take a spare of the current template, in the caller's transaction (its rollback puts
    the spare back). Returns its schema name, or None when there is none."""
    if not spares_enabled():
        return None
    key = template_migrations_key()
    connection.set_schema_to_public()  # type: ignore[attr-defined]  # django-tenants' backend
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM, [key])
        row = cursor.fetchone()
    return row[0] if row else None


def spare_schemas_refill(*, count: int | None = None) -> SpareRefill:
    """Drop spares of an older template, then copy the template until `count`
    (TENANT_SPARE_SCHEMAS) spares are ready. Each spare is made in a transaction of its
    own under a transaction-level advisory lock (also safe behind PgBouncer); a refill that
    finds the lock taken returns at once, since the other one is doing the work."""
    wanted = settings.TENANT_SPARE_SCHEMAS if count is None else count
    template_ensure()
    key = template_migrations_key()
    dropped = _stale_drop(key=key)
    made: list[str] = []
    while True:
        with transaction.atomic():
            if not _refill_lock_try():
                return SpareRefill(made=made, dropped=dropped, ready=_ready(key), busy=True)
            if _ready(key) >= wanted:
                break
            name = f"{SPARE_PREFIX}{uuid.uuid4().hex[:16]}"
            schema_create_from_template(schema_name=name)
            SpareSchema.objects.create(schema_name=name, migrations_key=key)
        made.append(name)
    if made or dropped:
        logger.info("Spare schemas: %d made, %d dropped", len(made), len(dropped))
    return SpareRefill(made=made, dropped=dropped, ready=_ready(key))


def spare_schemas_drop_all() -> list[str]:
    """Drop every spare (operators, tests)."""
    return _stale_drop(key=None)


def _ready(key: str) -> int:
    return SpareSchema.objects.filter(migrations_key=key).count()


def _refill_lock_try() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [REFILL_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def _stale_drop(*, key: str | None) -> list[str]:
    """Drop the spares not of `key` (all of them for None), one transaction each."""
    stale = SpareSchema.objects.all() if key is None else SpareSchema.objects.exclude(migrations_key=key)
    dropped = []
    for spare_id in list(stale.values_list("id", flat=True)):
        with transaction.atomic():
            spare = SpareSchema.objects.select_for_update(skip_locked=True).filter(id=spare_id).first()
            if spare is None:
                continue  # taken or being dropped meanwhile
            with owner_role():
                if schema_exists(spare.schema_name):
                    with connection.cursor() as cursor:
                        cursor.execute(
                            sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(spare.schema_name))
                        )
                tenant_role_drop(schema_name=spare.schema_name)
            spare.delete()
        dropped.append(spare.schema_name)
    return dropped
