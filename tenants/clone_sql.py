"""The copy script: DDL that rebuilds a migrated schema's tables, rows, identity sequences,
constraints and indexes in a new schema, generated from the source schema's catalog.

tenants/template.py decides when to use it (and falls back to running migrations when the
source holds objects the script cannot reproduce: `TemplateUnsupported`). Every name
interpolated into the script is quote_ident/quote_schema_name output.
"""

import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django_tenants.utils import quote_schema_name

from .migration_state import MigrationKey

TARGET = "\x00target\x00"
# Between the statements of a Citus script: Citus forwards some DDL (foreign keys) to the
# workers as the client's query text, which must then hold that one statement only.
STATEMENT_BREAK = ";\n-- next statement\n"
INDEX_DEF = re.compile(r"^CREATE (UNIQUE )?INDEX (\S+) ON (?:ONLY )?\S+ USING (.+)$", re.DOTALL)
_FK_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
_FK_MATCH = {"f": " MATCH FULL", "p": " MATCH PARTIAL", "s": ""}


class TemplateUnsupported(Exception):
    """The template holds objects the copy script does not reproduce."""


@dataclass(frozen=True)
class CloneScript:
    applied: frozenset[MigrationKey]
    sql: str | None  # None: the template cannot be copied; use migrations
    reason: str = ""
    # The copy's tables and sequences (quoted names, as in the template), so the tenant's
    # grants name them: GRANT ... ON ALL TABLES IN SCHEMA scans all of pg_class, which at
    # 1,000 tenants costs more than the whole copy.
    tables: tuple[str, ...] = ()
    sequences: tuple[str, ...] = ()

    def for_schema(self, schema_name: str) -> str:
        assert self.sql is not None
        return self.sql.replace(TARGET, quote_schema_name(schema_name))

    def batches_for_schema(self, schema_name: str) -> list[str]:
        """The script as the queries to send: one (a round trip) for an ordinary schema,
        one per statement for a Citus script."""
        return self.for_schema(schema_name).split(STATEMENT_BREAK)


def clone_relations(source: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The tables and the sequences of `source` (quoted names), which its copy has too."""
    with connection.cursor() as cursor:
        rows = _fetch(
            cursor,
            "SELECT c.relkind, quote_ident(c.relname) FROM pg_catalog.pg_class c"
            " WHERE c.relnamespace = %s::regnamespace AND c.relkind IN ('r', 'S') ORDER BY 2",
            [source],
        )
    return (
        tuple(name for kind, name in rows if kind == "r"),
        tuple(name for kind, name in rows if kind == "S"),
    )


def _fetch(cursor: Any, query: str, params: list[Any]) -> list[tuple[Any, ...]]:
    cursor.execute(query, params)
    return cursor.fetchall()


def clone_sql_generate(source: str, *, citus: bool = False) -> str:
    """The copy script for `source`, with TARGET standing for the new schema's name.

    `citus`: the new schema will be a Citus distributed schema (docs/scale-out.md), whose
    tables accept only the ALTER TABLE subcommands Citus supports: identity columns come
    from `LIKE ... INCLUDING IDENTITY` in the CREATE TABLE (so the sequences must carry
    PostgreSQL's default names, as Django's migrations make them) and each foreign key is
    added by its own ALTER TABLE.
    """
    src = quote_schema_name(source)
    with connection.cursor() as cursor:
        unsupported = _fetch(cursor, _UNSUPPORTED_OBJECTS, [source] * 7)
        if unsupported:
            raise TemplateUnsupported(", ".join(row[0] for row in unsupported[:5]))
        tables = _fetch(
            cursor,
            """
            SELECT c.oid, quote_ident(c.relname) FROM pg_catalog.pg_class c
            WHERE c.relnamespace = %s::regnamespace AND c.relkind = 'r' ORDER BY c.relname
            """,
            [source],
        )
        columns = _fetch(
            cursor,
            """
            SELECT a.attrelid, string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
            FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
            WHERE c.relnamespace = %s::regnamespace AND c.relkind = 'r'
              AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
            GROUP BY a.attrelid
            """,
            [source],
        )
        identities = _fetch(
            cursor,
            """
            SELECT quote_ident(c.relname), quote_ident(a.attname), quote_ident(s.relname),
                   CASE a.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END,
                   format('INCREMENT BY %%s MINVALUE %%s MAXVALUE %%s START WITH %%s CACHE %%s %%s',
                          sq.seqincrement, sq.seqmin, sq.seqmax, sq.seqstart,
                          sq.seqcache, CASE WHEN sq.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END)
            FROM pg_catalog.pg_attribute a
            JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
            JOIN pg_catalog.pg_depend d ON d.refobjid = c.oid AND d.refobjsubid = a.attnum
                 AND d.classid = 'pg_catalog.pg_class'::regclass AND d.deptype = 'i'
            JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
            JOIN pg_catalog.pg_sequence sq ON sq.seqrelid = s.oid
            WHERE c.relnamespace = %s::regnamespace AND a.attidentity <> ''
            ORDER BY 1, 2
            """,
            [source],
        )
        constraints = _fetch(
            cursor,
            """
            SELECT quote_ident(c.relname), quote_ident(con.conname), con.contype,
                   pg_catalog.pg_get_constraintdef(con.oid),
                   (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
                      FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                      JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
                   fn.nspname, quote_ident(fc.relname),
                   (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
                      FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                      JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum),
                   con.confupdtype, con.confdeltype, con.confmatchtype, con.condeferrable, con.condeferred,
                   con.confdelsetcols IS NOT NULL
            FROM pg_catalog.pg_constraint con
            JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
            LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
            LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
            WHERE c.relnamespace = %s::regnamespace AND con.contype IN ('p', 'u', 'c', 'x', 'f')
            ORDER BY con.contype = 'f', c.relname, con.conname
            """,
            [source],
        )
        indexes = _fetch(
            cursor,
            """
            SELECT quote_ident(t.relname), pg_catalog.pg_get_indexdef(x.indexrelid)
            FROM pg_catalog.pg_index x
            JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
            WHERE t.relnamespace = %s::regnamespace
              AND NOT EXISTS (
                  SELECT 1 FROM pg_catalog.pg_constraint con
                  WHERE con.conindid = x.indexrelid AND con.conrelid = x.indrelid
                    AND con.contype IN ('p', 'u', 'x'))
            ORDER BY 1, 2
            """,
            [source],
        )
    if not tables:
        raise TemplateUnsupported("the template has no tables")

    # Rows and sequence positions change only with migrations, which regenerate the script:
    # copy only the tables that have rows, move only the sequences that have moved.
    with connection.cursor() as cursor:
        filled = {
            row[0]
            for row in _fetch(
                cursor,
                " UNION ALL ".join(
                    f"SELECT %s WHERE EXISTS (SELECT 1 FROM {src}.{table})"  # noqa: S608
                    for _oid, table in tables
                ),
                [table for _oid, table in tables],
            )
        }
        moved = {
            row[0]
            for row in _fetch(
                cursor,
                "SELECT quote_ident(sequencename) FROM pg_catalog.pg_sequences"
                " WHERE schemaname = %s AND last_value IS NOT NULL",
                [source],
            )
        }

    # Each table in one statement: columns, defaults and CHECK constraints from LIKE (names and
    # expressions exactly as stored), then its primary key, unique and exclusion constraints
    # under their own names. Identity columns get the template's sequence names and options.
    like = (
        "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE "
        "INCLUDING COMMENTS INCLUDING COMPRESSION" + (" INCLUDING IDENTITY" if citus else "")
    )
    inline: dict[str, list[str]] = {}
    foreign: dict[str, list[str]] = {}
    for (
        table,
        name,
        kind,
        definition,
        cols,
        ref_schema,
        ref_table,
        ref_cols,
        upd,
        dele,
        match,
        deferrable,
        deferred,
        setcols,
    ) in constraints:
        if kind == "c":
            continue  # copied by LIKE
        if kind != "f":
            inline.setdefault(table, []).append(f"CONSTRAINT {name} {definition}")
            continue
        if setcols:
            raise TemplateUnsupported(f"foreign key {name} with ON DELETE SET NULL (columns)")
        target = TARGET if ref_schema == source else quote_schema_name(ref_schema)
        clause = (
            f"FOREIGN KEY ({cols}) REFERENCES {target}.{ref_table} ({ref_cols}){_FK_MATCH[match]}"
            f" ON UPDATE {_FK_ACTIONS[upd]} ON DELETE {_FK_ACTIONS[dele]}"
        )
        if deferrable:
            clause += " DEFERRABLE INITIALLY " + ("DEFERRED" if deferred else "IMMEDIATE")
        foreign.setdefault(table, []).append(f"ADD CONSTRAINT {name} {clause}")
    identity_clauses: dict[str, list[str]] = {}
    for table, column, sequence, generated, options in identities:
        if citus:
            if sequence != _default_sequence_name(table, column):
                raise TemplateUnsupported(
                    f"identity sequence {sequence} of {table}.{column} has no default name"
                )
            continue
        identity_clauses.setdefault(table, []).append(
            f"ALTER COLUMN {column} ADD GENERATED {generated} AS IDENTITY"
            f" (SEQUENCE NAME {TARGET}.{sequence} {options})"
        )

    column_lists = dict(columns)
    statements = [f"CREATE SCHEMA {TARGET}"]
    for _oid, table in tables:
        parts = ", ".join([f"LIKE {src}.{table} {like}", *inline.get(table, [])])
        statements.append(f"CREATE TABLE {TARGET}.{table} ({parts})")
    statements += [
        f"ALTER TABLE {TARGET}.{table} {', '.join(clauses)}" for table, clauses in identity_clauses.items()
    ]
    # Rows before foreign keys: no ordering between tables is needed.
    for oid, table in tables:
        if table in filled:
            cols = column_lists[oid]
            statements.append(
                f"INSERT INTO {TARGET}.{table} ({cols}) OVERRIDING SYSTEM VALUE"  # noqa: S608
                f" SELECT {cols} FROM {src}.{table}"
            )
    for _table, _column, sequence, _generated, _options in identities:
        if sequence in moved:
            sequence_literal = "'" + f"{TARGET}.{sequence}".replace("'", "''") + "'"
            statements.append(
                f"SELECT pg_catalog.setval({sequence_literal}, last_value, is_called) FROM {src}.{sequence}"  # noqa: S608
            )
    if citus:
        statements += [
            f"ALTER TABLE {TARGET}.{table} {c}" for table, clauses in foreign.items() for c in clauses
        ]
    else:
        statements += [
            f"ALTER TABLE {TARGET}.{table} {', '.join(clauses)}" for table, clauses in foreign.items()
        ]
    for table, definition in indexes:
        match_ = INDEX_DEF.match(definition)
        if match_ is None:
            raise TemplateUnsupported(f"index definition {definition!r}")
        unique, name, rest = match_.groups()
        statements.append(f"CREATE {unique or ''}INDEX {name} ON {TARGET}.{table} USING {rest}")
    return (STATEMENT_BREAK if citus else ";\n").join(statements) + ";"


def _default_sequence_name(table: str, column: str) -> str:
    """PostgreSQL's name for an identity column's sequence when both names are short
    (quoted names and truncated ones are not worth guessing: callers fall back)."""
    name = f"{table}_{column}_seq"
    return name if len(name) <= 63 and '"' not in name else "\x00"


# Objects the script does not reproduce. One row per problem; none means copyable.
# (Every name interpolated into the generated script is quote_ident/quote_schema_name output.)
_UNSUPPORTED_OBJECTS = """
SELECT format('%%s %%I', CASE relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
              WHEN 'p' THEN 'partitioned table' WHEN 'f' THEN 'foreign table' ELSE 'relation' END, relname)
  FROM pg_catalog.pg_class WHERE relnamespace = %s::regnamespace AND relkind NOT IN ('r', 'i', 'S')
UNION ALL
SELECT format('sequence %%I not owned by an identity column', s.relname) FROM pg_catalog.pg_class s
 WHERE s.relnamespace = %s::regnamespace AND s.relkind = 'S' AND NOT EXISTS (
       SELECT 1 FROM pg_catalog.pg_depend d
        WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = s.oid AND d.deptype = 'i')
UNION ALL
SELECT format('function %%I', proname) FROM pg_catalog.pg_proc WHERE pronamespace = %s::regnamespace
UNION ALL
SELECT format('type %%I', typname) FROM pg_catalog.pg_type
 WHERE typnamespace = %s::regnamespace AND typtype IN ('e', 'd', 'r', 'm', 'p')
UNION ALL
SELECT format('trigger %%I', tg.tgname) FROM pg_catalog.pg_trigger tg
  JOIN pg_catalog.pg_class c ON c.oid = tg.tgrelid
 WHERE c.relnamespace = %s::regnamespace AND NOT tg.tgisinternal
UNION ALL
SELECT format('policy %%I', p.polname) FROM pg_catalog.pg_policy p
  JOIN pg_catalog.pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = %s::regnamespace
UNION ALL
SELECT format('default of %%I.%%I uses a sequence', c.relname, a.attname)
  FROM pg_catalog.pg_attrdef ad
  JOIN pg_catalog.pg_class c ON c.oid = ad.adrelid
  JOIN pg_catalog.pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
 WHERE c.relnamespace = %s::regnamespace AND pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) LIKE '%%nextval(%%'
"""


def schema_fingerprint(*, schema_name: str) -> dict[str, list[tuple]]:
    """The structure of a schema with its own name factored out, to compare a copy with a
    migrated schema: columns, constraints, indexes, identity sequences and row counts."""
    prefix = f"{quote_schema_name(schema_name)}.", f"{schema_name}."

    def neutral(text: str | None) -> str | None:
        for p in prefix:
            text = text.replace(p, "<schema>.") if text else text
        return text

    with connection.cursor() as cursor:
        columns = _fetch(
            cursor,
            """
            SELECT c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated, a.attnum
            FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
            LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
            WHERE c.relnamespace = %s::regnamespace AND c.relkind = 'r'
              AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY 1, 8
            """,
            [schema_name],
        )
        constraints = _fetch(
            cursor,
            """
            SELECT c.relname, con.conname, con.contype, pg_catalog.pg_get_constraintdef(con.oid, true)
            FROM pg_catalog.pg_constraint con JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
            WHERE c.relnamespace = %s::regnamespace ORDER BY 1, 2
            """,
            [schema_name],
        )
        indexes = _fetch(
            cursor,
            "SELECT tablename, indexname, indexdef FROM pg_catalog.pg_indexes"
            " WHERE schemaname = %s ORDER BY 1, 2",
            [schema_name],
        )
        sequences = _fetch(
            cursor,
            """
            SELECT sequencename, data_type::text, start_value, increment_by, last_value
            FROM pg_catalog.pg_sequences WHERE schemaname = %s ORDER BY 1
            """,
            [schema_name],
        )
        tables = [
            row[0]
            for row in _fetch(cursor, "SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema_name])
        ]
        counts = []
        for table in sorted(tables):
            cursor.execute(
                f"SELECT count(*) FROM {quote_schema_name(schema_name)}.{quote_schema_name(table)}"  # noqa: S608
            )
            counts.append((table, cursor.fetchone()[0]))
    return {
        "columns": [(*row[:4], neutral(row[4]), *row[5:7]) for row in columns],
        "constraints": [(*row[:3], neutral(row[3])) for row in constraints],
        "indexes": [(*row[:2], neutral(row[2])) for row in indexes],
        "sequences": sequences,
        "row_counts": counts,
    }
