"""Concurrent two-tenant workload: N clients, each alternating requests for two tenants'
signed-in task lists, classifying every answer (right tenant, cross-tenant, error)."""

import http.client
import threading
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Probe:
    """A tenant with a committed task whose title exists nowhere else, and a signed-in session."""

    slug: str
    host: str
    title: str
    task_id: int
    session_key: str


@dataclass
class WorkloadResult:
    requests: int = 0
    right_tenant: int = 0
    # The other tenant's probe task was on the page: a cross-tenant answer.
    cross_tenant: int = 0
    # Anything else: a 5xx, a redirect to sign-in (session looked up in the wrong schema),
    # a page without the tenant's own probe, a dropped connection.
    errors: int = 0
    error_kinds: Counter = field(default_factory=Counter)
    elapsed_s: float = 0.0

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s else 0.0

    def summary(self) -> str:
        kinds = ", ".join(f"{kind}: {count}" for kind, count in self.error_kinds.most_common(5))
        return (
            f"{self.requests} requests in {self.elapsed_s:.1f} s ({self.requests_per_s:.0f}/s): "
            f"{self.right_tenant} right tenant, {self.cross_tenant} cross-tenant, "
            f"{self.errors} errors" + (f" ({kinds})" if kinds else "")
        )


def classify(status: int, body: bytes, own: Probe, other: Probe) -> str:
    if other.title.encode() in body:
        return "cross_tenant"
    if status == 200 and own.title.encode() in body:
        return "right_tenant"
    if status == 200:
        return "error:200 without own task"
    return f"error:{status}"


def run_workload(*, port: int, probes: dict[str, Probe], clients: int, total_requests: int) -> WorkloadResult:
    """`clients` threads, each with its own keep-alive HTTP connection, share `total_requests`;
    client i sends its j-th request to the first of the two probes when i + j is even, else
    to the second."""
    result = WorkloadResult()
    lock = threading.Lock()
    per_client = -(-total_requests // clients)
    first, second = probes.values()
    start = threading.Barrier(clients)

    def client(index: int) -> None:
        local = Counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        start.wait()
        for j in range(per_client):
            own, other = (first, second) if (index + j) % 2 == 0 else (second, first)
            headers = {"Host": f"{own.host}:{port}", "Cookie": f"sessionid={own.session_key}"}
            try:
                conn.request("GET", "/", headers=headers)
                response = conn.getresponse()
                local[classify(response.status, response.read(), own, other)] += 1
            except (OSError, http.client.HTTPException) as exc:
                local[f"error:{type(exc).__name__}"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        conn.close()
        with lock:
            for kind, count in local.items():
                result.requests += count
                if kind == "right_tenant":
                    result.right_tenant += count
                elif kind == "cross_tenant":
                    result.cross_tenant += count
                else:
                    result.errors += count
                    result.error_kinds[kind.removeprefix("error:")] += count

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    result.elapsed_s = time.perf_counter() - began
    return result
