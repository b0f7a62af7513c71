"""Timing `tenant_provision` the three ways it runs (tenants/services/spares.py), shared by
the tenants and the Citus benchmarks:

- `create_ms`: a sign-up taking a spare schema, what a person waits for while spares are
  kept (TENANT_SPARE_SCHEMAS > 0, the default): the spare is made before each call, untimed;
- `spare_ms`: making that spare (the template copy, its role and grants), the job's work
  after each sign-up, off the request;
- `copy_ms`: a sign-up that finds no spare (TENANT_SPARE_SCHEMAS = 0, or a burst of
  sign-ups) and copies the template itself.

The fast password hasher is used: the default hasher's cost is the same whatever the tenancy.
The first call of each way is left out (it may rebuild the template or the copy script).
"""

import logging
import statistics
import time
import uuid
from dataclasses import dataclass, field

from django.test import override_settings

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class ProvisionTimings:
    create_ms: list[float] = field(default_factory=list)
    spare_ms: list[float] = field(default_factory=list)
    copy_ms: list[float] = field(default_factory=list)

    def medians(self) -> dict[str, float]:
        return {
            "create_ms": statistics.median(self.create_ms),
            "spare_ms": statistics.median(self.spare_ms),
            "copy_ms": statistics.median(self.copy_ms),
        }


def provision_timed(*, prefix: str, creations: int, slugs: list[str]) -> ProvisionTimings:
    """`creations` sign-ups each way, each slug appended to `slugs` first: the caller
    removes them afterwards (also after an error)."""
    from tenants.services import spare_schemas_drop_all, spare_schemas_refill, tenant_provision

    run_id = uuid.uuid4().hex[:6]
    out = ProvisionTimings()
    logging.getLogger("tenants.services.spares").setLevel(logging.WARNING)  # a line per refill

    def provision(slug: str) -> float:
        started = time.perf_counter()
        slugs.append(slug)
        tenant_provision(
            slug=slug, name=slug, owner_email=f"o@{slug}.example", owner_password="bench-pw-1234-x"
        )
        return (time.perf_counter() - started) * 1000

    spare_schemas_drop_all()  # so each refill below makes exactly the spare the next call takes
    with override_settings(PASSWORD_HASHERS=FAST_HASHER, TENANT_SPARE_SCHEMAS=1):
        for i in range(creations + 1):
            started = time.perf_counter()
            refill = spare_schemas_refill()
            spare_ms = (time.perf_counter() - started) * 1000
            if len(refill.made) != 1:
                raise RuntimeError(f"expected one spare made, got {refill}")
            create_ms = provision(f"{prefix}-{run_id}-s{i:02d}")
            if i:
                out.spare_ms.append(spare_ms)
                out.create_ms.append(create_ms)
    with override_settings(PASSWORD_HASHERS=FAST_HASHER, TENANT_SPARE_SCHEMAS=0):
        for i in range(creations + 1):
            copy_ms = provision(f"{prefix}-{run_id}-c{i:02d}")
            if i:
                out.copy_ms.append(copy_ms)
    return out
