"""Fast tenant schemas: copy a migrated template schema instead of running every migration.

`settings.TENANT_TEMPLATE_SCHEMA` is a schema that belongs to no tenant and is migrated
exactly like one. It follows the migrations in two ways: `migrate_schemas` migrates it
before the tenants, and `template_ensure()` (run before every provisioning) compares its
django_migrations with the migration graph of the running code and migrates it, under an
advisory lock, when anything is missing. A tenant created after a deploy that added a
migration therefore always has it.

Copying is one round trip: a DDL script generated once from the template's catalog (and
regenerated whenever the template's migrations change) that creates each table with
`LIKE ... INCLUDING DEFAULTS/IDENTITY/...`, copies the template's rows (migration records,
content types, permissions), moves identity sequences to the template's values, and
re-creates every constraint and index under its original name, so later migrations that
drop or rename them by name work on clones exactly as on migrated schemas.

The script only knows tables, indexes, identity sequences and constraints (all Django
migrations create). If the template ever holds anything else (views, functions,
triggers, serial sequences, custom types), provisioning falls back to running the
migrations in the new schema, which is slow but always right.
"""

import functools
import logging

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django_tenants.utils import quote_schema_name, schema_exists

from core.db.roles import (
    app_role_name,
    owner_role,
    owner_role_name,
    tenant_role_create,
    tenant_role_of,
    tenant_role_sql,
    tenant_roles_enabled,
)

from .clone_sql import CloneScript, TemplateUnsupported, clone_relations, clone_sql_generate
from .migration_state import MigrationKey, migrations_digest, migrations_missing, schemas_applied_migrations

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock key that serialises template (re)builds across processes.
TEMPLATE_LOCK_KEY = 0x74656D706C  # "templ"


# pg_advisory_xact_lock key that serialises template (re)builds across processes.
def template_schema_name() -> str:
    return settings.TENANT_TEMPLATE_SCHEMA


def template_applied_migrations() -> set[MigrationKey]:
    name = template_schema_name()
    return schemas_applied_migrations(schema_names=[name])[name]


def template_migrations_key() -> str:
    """What a spare schema was copied at (services/spares.py): a digest of the running code's
    migrations, which template_ensure has applied to the template before any spare is made
    or taken. No query: a sign-up has just read the template's migrations in template_ensure."""
    return migrations_digest()


def template_is_current() -> bool:
    applied = template_applied_migrations()
    return bool(applied) and not migrations_missing(applied=applied)


def template_ensure(*, verbosity: int = 0) -> bool:
    """Create or migrate the template if it lacks any migration of the running code.

    Returns True if it had to migrate. Two queries when the template is current.
    """
    with owner_role():
        return _template_ensure(verbosity=verbosity)


def _template_ensure(*, verbosity: int) -> bool:
    if template_is_current():
        return False
    # The transaction-scoped lock is also safe behind a transaction-mode pooler; the
    # template's migrations run inside it, so a failure leaves the template as it was.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TEMPLATE_LOCK_KEY])
        if template_is_current():  # another process migrated it while this one waited
            return False
        template_migrate(verbosity=verbosity)
    connection.set_schema_to_public()
    return True


def template_schema_create() -> None:
    """Create the template schema if missing, as an ordinary schema even on Citus.

    With `citus.enable_schema_based_sharding` on for the database (docs/scale-out.md), every
    CREATE SCHEMA makes a distributed schema; the template must stay a local schema on the
    coordinator (Citus cannot undistribute it later: its tables have identity columns). The
    setting is switched off for this one implicit transaction; on plain PostgreSQL the
    `citus.` name is an unused placeholder and the statement is the same CREATE SCHEMA.
    """
    name = quote_schema_name(template_schema_name())
    with connection.cursor() as cursor:
        cursor.execute(
            f"SET LOCAL citus.enable_schema_based_sharding TO off; CREATE SCHEMA IF NOT EXISTS {name}"
        )


def template_migrate(*, verbosity: int = 0) -> None:
    """Run the tenant migrations in the template schema (created if missing)."""
    from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand

    name = template_schema_name()
    connection.set_schema_to_public()
    template_schema_create()
    # django-tenants' own command and executor: the template is migrated exactly like a tenant.
    call_command(
        MigrateSchemasCommand(),
        schema_name=name,
        executor="standard",
        interactive=False,
        verbosity=verbosity,
    )
    connection.set_schema_to_public()


def schema_create_from_template(*, schema_name: str) -> None:
    """Create `schema_name` as a copy of the (current) template, with its own role and its
    grants (core/db/roles.py), in the caller's transaction and as the owner role."""
    with owner_role():
        template_ensure()
        connection.set_schema_to_public()
        script = clone_script()
        if script.sql is None:
            _schema_create_by_migrating(schema_name)
            tenant_role_create(schema_name=schema_name)
            return
        batches = list(script.batches_for_schema(schema_name))
        if tenant_roles_enabled():
            role_sql = tenant_role_sql(
                schema_name=schema_name,
                role=tenant_role_of(schema_name),
                owner=owner_role_name(),
                app=app_role_name(),
                tables=script.tables,
                sequences=script.sequences,
            ).as_string(connection.connection)
            if len(batches) == 1:
                batches[0] += "; " + role_sql  # the role and its grants travel in the copy's round trip
            else:
                batches.append(role_sql)  # Citus: one statement per query
        with connection.cursor() as cursor:
            for batch in batches:
                cursor.execute(batch)
    connection.set_schema_to_public()


def _schema_create_by_migrating(schema_name: str) -> None:
    from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {quote_schema_name(schema_name)}")
    call_command(
        MigrateSchemasCommand(), schema_name=schema_name, executor="standard", interactive=False, verbosity=0
    )
    connection.set_schema_to_public()


def clone_script() -> CloneScript:
    """The copy script for the template as it is now (cached per set of applied migrations,
    and per kind of target: ordinary schema, or Citus distributed schema)."""
    return _clone_script_for(frozenset(template_applied_migrations()), schema_sharding_on())


def schema_sharding_on() -> bool:
    """Whether a CREATE SCHEMA on this connection makes a Citus distributed schema
    (`citus.enable_schema_based_sharding`, set for the database by scripts/citus.sh)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('citus.enable_schema_based_sharding', true) = 'on'")
        return bool(cursor.fetchone()[0])


@functools.lru_cache(maxsize=4)
def _clone_script_for(applied: frozenset[MigrationKey], citus: bool = False) -> CloneScript:
    try:
        sql = clone_sql_generate(template_schema_name(), citus=citus)
    except TemplateUnsupported as exc:
        logger.warning("Tenant template cannot be copied (%s); new tenants are migrated instead.", exc)
        return CloneScript(applied=applied, sql=None, reason=str(exc))
    tables, sequences = clone_relations(template_schema_name())
    return CloneScript(applied=applied, sql=sql, tables=tables, sequences=sequences)


def clone_script_cache_clear() -> None:
    _clone_script_for.cache_clear()


def template_drop() -> None:
    """Drop the template (tests, or to force a rebuild); the next provisioning re-creates it."""
    name = template_schema_name()
    if schema_exists(name):
        with owner_role(), connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA {quote_schema_name(name)} CASCADE")
    clone_script_cache_clear()
