"""Where a tenant's schema lives on a Citus cluster, and moving it (docs/scale-out.md).

With schema-based sharding every tenant schema is a distributed schema: its tables are
single-shard tables co-located on one worker. Moving a tenant is Citus's own
`citus_schema_move` (logical replication of every table of the schema while it stays in
use, then a short write pause for the switch-over); spreading all tenants is Citus's
background rebalancer. On plain PostgreSQL there is nothing to place: these functions
say so with a ValidationError.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection

from audit.actions import AuditAction
from audit.actors import Actor
from audit.services import audit_record

from ..models import Client


@dataclass(frozen=True, order=True)
class Node:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def citus_enabled() -> bool:
    """Whether the tenant database is a Citus database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus')")
        return bool(cursor.fetchone()[0])


def _citus_required() -> None:
    if not citus_enabled():
        raise ValidationError(
            "The tenant database is not a Citus cluster: every tenant lives on its one server."
        )


def citus_workers() -> list[Node]:
    """The active primary worker nodes (not the coordinator), in node order."""
    _citus_required()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nodename, nodeport FROM pg_catalog.pg_dist_node"
            " WHERE groupid <> 0 AND isactive AND noderole = 'primary' ORDER BY nodeid"
        )
        return [Node(host, port) for host, port in cursor.fetchall()]


def tenant_node(*, tenant: Client) -> Node | None:
    """The worker holding the tenant's schema; None if the schema is not distributed."""
    _citus_required()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT n.nodename, n.nodeport
            FROM pg_catalog.pg_dist_schema ds
            JOIN pg_catalog.pg_dist_partition p ON p.colocationid = ds.colocationid
            JOIN pg_catalog.pg_dist_shard s ON s.logicalrelid = p.logicalrelid
            JOIN pg_catalog.pg_dist_placement pl ON pl.shardid = s.shardid
            JOIN pg_catalog.pg_dist_node n ON n.groupid = pl.groupid
            WHERE ds.schemaid = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = %s)
            """,
            [tenant.schema_name],
        )
        rows = cursor.fetchall()
    if len(rows) > 1:
        raise ValidationError(
            f"Tenant {tenant.slug} has tables on several nodes; run the rebalancer to repair."
        )
    return Node(*rows[0]) if rows else None


def node_parse(text: str) -> Node:
    """`HOST:PORT` of a worker of this cluster, or ValidationError naming the workers."""
    host, sep, port = (text or "").strip().rpartition(":")
    workers = citus_workers()
    names = ", ".join(str(w) for w in workers) or "none"
    if not sep or not host or not port.isdigit():
        raise ValidationError(f"Give the node as HOST:PORT (workers: {names}).")
    node = Node(host, int(port))
    if node not in workers:
        raise ValidationError(f"{node} is not an active worker of this cluster (workers: {names}).")
    return node


def tenant_move(*, tenant: Client, node: str, actor: Actor) -> tuple[Node, Node]:
    """Move the tenant's schema to worker `node` while it stays in use; returns (from, to).

    `citus_schema_move` with shard_transfer_mode 'auto': logical replication of every
    table of the schema (all have primary keys), reads and writes go on meanwhile; writes
    wait for the final catch-up only. Must not run inside a transaction.
    """
    if connection.in_atomic_block:
        raise ValidationError("A tenant move cannot run inside a transaction.")
    target = node_parse(node)
    current = tenant_node(tenant=tenant)
    if current is None:
        raise ValidationError(f"Tenant {tenant.slug}'s schema is not a distributed schema.")
    if current == target:
        raise ValidationError(f"Tenant {tenant.slug} is already on {target}.")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT citus_schema_move(%s::regnamespace, %s, %s, shard_transfer_mode => 'auto')",
            [tenant.schema_name, target.host, target.port],
        )
    audit_record(
        action=AuditAction.TENANT_MOVED,
        actor=actor,
        tenant=tenant,
        target=tenant,
        changes={"node": [str(current), str(target)]},
    )
    return current, target


def tenants_by_node() -> dict[Node, list[str]]:
    """Every distributed tenant schema, by the worker that holds it."""
    _citus_required()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT n.nodename, n.nodeport, ns.nspname
            FROM pg_catalog.pg_dist_schema ds
            JOIN pg_catalog.pg_namespace ns ON ns.oid = ds.schemaid
            JOIN pg_catalog.pg_dist_partition p ON p.colocationid = ds.colocationid
            JOIN pg_catalog.pg_dist_shard s ON s.logicalrelid = p.logicalrelid
            JOIN pg_catalog.pg_dist_placement pl ON pl.shardid = s.shardid
            JOIN pg_catalog.pg_dist_node n ON n.groupid = pl.groupid
            ORDER BY 1, 2, 3
            """
        )
        found: dict[Node, list[str]] = {node: [] for node in citus_workers()}
        for host, port, schema in cursor.fetchall():
            found.setdefault(Node(host, port), []).append(schema)
    return found


TRANSFER_MODES = ("auto", "force_logical", "block_writes")


def tenants_rebalance(*, transfer_mode: str = "auto") -> int:
    """Run Citus's background rebalancer until it is done; returns the schemas it moved
    (a tenant schema is one co-location group, so it moves whole). `transfer_mode`:
    'auto' (logical replication, tenants stay writable), or 'block_writes' (faster; writes
    to a moving tenant wait until its move is done)."""
    if connection.in_atomic_block:
        raise ValidationError("Rebalancing cannot run inside a transaction.")
    if transfer_mode not in TRANSFER_MODES:
        raise ValidationError(f"Transfer mode must be one of {', '.join(TRANSFER_MODES)}.")
    before = {schema: node for node, schemas in tenants_by_node().items() for schema in schemas}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT citus_rebalance_start(shard_transfer_mode => %s::citus.shard_transfer_mode)",
            [transfer_mode],
        )
        cursor.execute("SELECT citus_rebalance_wait()")
    after = {schema: node for node, schemas in tenants_by_node().items() for schema in schemas}
    return sum(1 for schema, node in after.items() if before.get(schema) != node)
