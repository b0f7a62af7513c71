"""A tenant moved to the other worker while it is in use: gunicorn on the coordinator serves
signed-in task lists for two tenants (8 clients) and a writer adds tasks to the moving tenant
the whole time; `manage.py tenant_move` moves it there and back. Every request answers from
its own tenant, none fails, every write lands, and the data is the same afterwards."""

import datetime
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django_tenants.utils import schema_context

from audit.models import AuditRecord
from tasks_app.models import Task
from tests.support.citus import citus_required, schema_rows, tenant_node, tenants_by_node
from tests.support.gunicorn import Gunicorn, database_url, gunicorn
from tests.support.workload import run_workload

pytestmark = [pytest.mark.citus, pytest.mark.timeout(600)]

REQUESTS = 1200
OLD = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="module")
def app(probes, tmp_path_factory, django_db_blocker) -> Iterator[Gunicorn]:
    with django_db_blocker.unblock():
        citus_required()
    with gunicorn(
        database_url=database_url("default"),
        stats_database_url=database_url("stats"),
        log_dir=tmp_path_factory.mktemp("move"),
        workers=2,
        threads=4,
    ) as server:
        yield server


class Writer(threading.Thread):
    """Adds (and back-dates) tasks in a tenant until stopped, on its own connection; counts what failed."""

    def __init__(self, schema: str, prefix: str) -> None:
        super().__init__(daemon=True)
        self.schema, self.prefix = schema, prefix
        self.stop = threading.Event()
        self.written: list[int] = []
        self.failures: list[str] = []

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    with schema_context(self.schema):
                        task = Task.objects.create(title=f"{self.prefix}{len(self.written)}")
                        # Dated back, so the readers' first page keeps showing their probe task.
                        Task.objects.filter(id=task.id).update(created_at=OLD)
                    self.written.append(task.id)
                except Exception as exc:
                    self.failures.append(f"{type(exc).__name__}: {exc}")
                time.sleep(0.02)
        finally:
            connections.close_all()


def test_a_tenant_moves_to_the_other_worker_under_load(app, probes, tenants, django_db_blocker):
    with django_db_blocker.unblock():
        acme = tenants["acme"].tenant
        before_rows = schema_rows(acme.schema_name)
        home = tenant_node(tenant=acme)
        other = next(node for node in tenants_by_node() if node != home)
        prefix = f"move-write-{uuid.uuid4().hex[:8]}-"
        writer = Writer(acme.schema_name, prefix)

        load_result: dict = {}
        load = threading.Thread(
            target=lambda: load_result.update(
                result=run_workload(port=app.port, probes=probes, clients=8, total_requests=REQUESTS)
            ),
            daemon=True,
        )
        load.start()
        writer.start()
        time.sleep(1.0)
        moves = []
        for target in (other, home):
            started = time.perf_counter()
            call_command("tenant_move", acme.slug, node=str(target))
            moves.append(round(time.perf_counter() - started, 2))
            assert tenant_node(tenant=acme) == target
            assert load.is_alive(), "the load ended before the move did: the move was not under load"
        load.join(timeout=300)
        writer.stop.set()
        writer.join(timeout=30)
        connection.set_schema_to_public()

        result = load_result["result"]
        ARTIFACTS.mkdir(exist_ok=True)
        with (ARTIFACTS / "citus-move.jsonl").open("a") as out:
            out.write(
                json.dumps({"summary": result.summary(), "moves_s": moves, "writes": len(writer.written)})
                + "\n"
            )
        print(f"\n[tenant_move under load] {result.summary()}; moves {moves} s; {len(writer.written)} writes")
        assert result.cross_tenant == 0, result.summary()
        assert result.errors == 0, result.summary()
        assert result.right_tenant == result.requests >= REQUESTS
        assert writer.failures == [], writer.failures[:5]
        assert len(writer.written) > 10

        # The data after two moves: every written task, and everything else exactly as before.
        with schema_context(acme.schema_name):
            assert sorted(
                Task.objects.filter(title__startswith=prefix).values_list("id", flat=True)
            ) == sorted(writer.written)
        after_rows = schema_rows(acme.schema_name)
        after_rows["tasks_app_task"] = [row for row in after_rows["tasks_app_task"] if prefix not in row]
        assert after_rows == before_rows
        assert AuditRecord.objects.filter(tenant_schema=acme.schema_name, action="tenant.moved").count() >= 2
        with schema_context(acme.schema_name):
            Task.objects.filter(title__startswith=prefix).delete()
