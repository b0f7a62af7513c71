"""Helpers shared by the test suite (and `make bench`), one concept per module.

- `tenants`: the two session tenants' handle (`TenantInfo`) and their password.
- `factories`: people and tasks created inside a tenant's schema.
- `database`: a superuser connection, a database outage, work in a fresh thread.
- `gunicorn`: gunicorn as production runs it, on a free loopback port.
- `live_server`: Django's threaded WSGI server in this process, and `committed()`.
- `chromium`: Debian's Chromium through Playwright.
- `pgbouncer`: a private PgBouncer in transaction mode, and gunicorn behind it.
- `workload`: the concurrent two-tenant workload that classifies every answer.
- `tiers`: the test tiers (pytest markers), how a helper declares the tier it needs, and how
  a test's tier is inferred (tested in test_tiers.py).
"""
