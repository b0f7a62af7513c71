"""schemathesis against /api/v1/openapi.json on real gunicorn with `make run`'s settings,
every check on: no 5xx, no response that breaks the schema, bad input rejected and good
input accepted, 405 for undeclared methods. Once on the organisation's own host and once
on the shared API host (X-Tenant-ID).

It runs in a tenant of its own, because it creates and deletes tasks by id at random.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from accounts.services import api_token_create
from tenants.services import tenant_provision
from tests.support.gunicorn import make_run_gunicorn
from tests.support.live_server import committed
from tests.support.tenants import PASSWORD

# ~40 s alone on 2 cores; more examples (SCHEMATHESIS_MAX_EXAMPLES) or a busy machine need more.
pytestmark = [pytest.mark.live, pytest.mark.timeout(300)]

# Bounded so `make test` stays quick; raise it locally with SCHEMATHESIS_MAX_EXAMPLES.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261121")
REPORTS = Path(__file__).resolve().parents[1] / "artifacts" / "schemathesis"


def _fuzz_tenant() -> tuple[str, str, int]:
    """A fresh tenant, an API token of its owner and the owner's id, committed for the server."""
    from django_tenants.utils import schema_context

    slug = f"fuzz-{uuid.uuid4().hex[:8]}"
    result = tenant_provision(
        slug=slug, name="Fuzz Ltd", owner_email=f"owner@{slug}.example", owner_password=PASSWORD
    )
    with schema_context(result.tenant.schema_name):
        from accounts.models import User

        owner = User.objects.get()
        _token, raw = api_token_create(user=owner, name="schemathesis")
    return result.domain.domain, raw, owner.pk


@pytest.fixture(scope="module")
def server(tenants, django_db_blocker, tmp_path_factory):
    with (
        django_db_blocker.unblock(),
        make_run_gunicorn(log_dir=tmp_path_factory.mktemp("schemathesis")) as running,
    ):
        yield running


@pytest.fixture(scope="module")
def fuzz_tenant(server, django_db_blocker):
    with django_db_blocker.unblock():
        return committed(_fuzz_tenant)


@pytest.mark.parametrize("shared_host", [False, True], ids=["own-host", "api-host"])
def test_api_conforms_to_its_schema_under_fuzzing(server, fuzz_tenant, db, tmp_path, shared_host):
    host, token, owner_id = fuzz_tenant
    extra_headers = []
    if shared_host:
        extra_headers = ["--header", f"X-Tenant-ID: {host.split('.')[0]}"]
        host = "api.localhost"
    base = f"http://127.0.0.1:{server.port}"
    headers = {"Host": f"{host}:{server.port}"}
    if shared_host:
        headers["X-Tenant-ID"] = fuzz_tenant[0].split(".")[0]
    reports = REPORTS / ("api-host" if shared_host else "own-host")
    # *.localhost is not resolvable by every resolver: talk to 127.0.0.1 with the tenant's Host.
    schema = requests.get(f"{base}/api/v1/openapi.json", headers=headers, timeout=10)
    assert schema.status_code == 200
    schema_path = tmp_path / "openapi.json"
    schema_path.write_text(json.dumps(schema.json()))

    reports.mkdir(parents=True, exist_ok=True)
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        str(schema_path),
        "--url",
        base,
        "--header",
        f"Host: {host}:{server.port}",
        *extra_headers,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        SEED,
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--generation-database",
        "none",
        "--report",
        "junit",
        "--report-dir",
        str(reports),
        "--no-color",
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.tasks_app.schemathesis_hooks",
        "TASKHIVE_FUZZ_ASSIGNEE_ID": str(owner_id),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, env=env)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-8000:]
    assert "No issues found" in output or "passed" in output.lower(), output[-4000:]
