"""django-tenants' PostgreSQL backend made safe behind PgBouncer in transaction mode.

Selected by `DB_POOLER=pgbouncer-transaction` (see saas/settings/base.py and docs/scale-out.md).
"""
