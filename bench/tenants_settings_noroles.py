"""bench/tenants.py: the same app without per-tenant roles (DB_TENANT_ROLES off): only the
search_path is stated per transaction. The bench tenant's role is the session's from the
start (`-c role=`), so both runs have the same privileges and differ only by the
`SET LOCAL ROLE` the cached run sends with every transaction."""

import os

from saas.settings.dev import *  # noqa: F403
from saas.settings.dev import DATABASES, DEFAULT_DB_ALIAS

DB_TENANT_ROLES = False
DATABASES[DEFAULT_DB_ALIAS]["OPTIONS"] = {
    **DATABASES[DEFAULT_DB_ALIAS].get("OPTIONS", {}),
    "options": f"-c role={os.environ['BENCH_TENANT_ROLE']}",  # a plain role name, set by the bench
}
