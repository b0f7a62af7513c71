"""A closed-loop HTTP load generator: N clients, each sending its next request when the
previous one is answered, for a fixed time, to 127.0.0.1 only. Every response is
checked for the right status and for the right tenant's data."""

import random
import re
import statistics
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy

import requests

from tests.support.gunicorn import Gunicorn

from .seed import PASSWORD, SeededTenant

# Every task a seeded tenant has carries its slug: the secret one and those created under load.
OWNED_TITLE_RE = re.compile(rb"([a-z][a-z0-9]*)-(?:secret-task|load-[0-9a-f]{12})")
# What each client does on each turn, by weight.
DEFAULT_MIX = {"page": 35, "api_list": 35, "api_create": 10, "public": 20}


@dataclass
class Sample:
    kind: str
    tenant: str
    started: float  # time.time()
    elapsed_s: float
    status: int  # 0: no HTTP answer (timeout, connection error)
    problem: str = ""  # non-empty when the answer was wrong


@dataclass
class LoadResult:
    samples: list[Sample] = field(default_factory=list)
    started_at: float = 0.0
    ended_at: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.samples)

    def errors(self, *, allowed_statuses: frozenset[int] = frozenset()) -> list[Sample]:
        return [s for s in self.samples if s.problem and s.status not in allowed_statuses]

    def wrong_data(self) -> list[Sample]:
        return [s for s in self.samples if s.problem.startswith("wrong tenant")]

    def percentile_ms(self, q: float) -> float:
        latencies = sorted(s.elapsed_s * 1000 for s in self.samples)
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))]

    def summary(self) -> dict:
        duration = max(1e-9, self.ended_at - self.started_at)
        return {
            "requests": self.requests,
            "errors": len(self.errors()),
            "statuses": dict(Counter(s.status for s in self.samples)),
            "by_kind": dict(Counter(s.kind for s in self.samples)),
            "throughput_rps": round(self.requests / duration, 1),
            "p50_ms": round(self.percentile_ms(0.50), 1),
            "p95_ms": round(self.percentile_ms(0.95), 1),
            "p99_ms": round(self.percentile_ms(0.99), 1),
            "max_ms": round(max((s.elapsed_s * 1000 for s in self.samples), default=0.0), 1),
            "mean_ms": round(statistics.fmean(s.elapsed_s * 1000 for s in self.samples), 1)
            if self.samples
            else 0,
        }


def _no_cookies() -> requests.Session:
    session = requests.Session()
    # Cookies are sent by hand per tenant: a jar keyed by 127.0.0.1 would mix tenants.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return session


def login_sessions(server: Gunicorn, tenants: list[SeededTenant]) -> dict[str, str]:
    """A signed-in session cookie per tenant, through the real login form."""
    cookies = {}
    for tenant in tenants:
        session = requests.Session()
        headers = server.headers(tenant.host)
        form = session.get(server.url("/accounts/login/"), headers=headers, timeout=15)
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.content).group(1).decode()
        response = session.post(
            server.url("/accounts/login/"),
            data={"username": tenant.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={**headers, "Referer": f"http://{tenant.host}:{server.port}/accounts/login/"},
            allow_redirects=False,
            timeout=15,
        )
        assert response.status_code == 302, (tenant.slug, response.status_code, response.text[:300])
        cookies[tenant.slug] = session.cookies["sessionid"]
    return cookies


class _Client(threading.Thread):
    def __init__(self, load: "Load", seed: int):
        super().__init__(daemon=True)
        self.load = load
        self.random = random.Random(seed)
        self.session = _no_cookies()
        self.samples: list[Sample] = []

    def run(self) -> None:
        load = self.load
        kinds, weights = zip(*load.mix.items(), strict=True)
        while time.monotonic() < load.deadline and not load.stop.is_set():
            kind = self.random.choices(kinds, weights)[0]
            tenant = self.random.choice(load.tenants)
            self.samples.append(self._one(kind, tenant))
        self.session.close()

    def _one(self, kind: str, tenant: SeededTenant) -> Sample:
        load, server = self.load, self.load.server
        headers = server.headers("localhost" if kind == "public" else tenant.host)
        expected = 200
        if kind == "page":
            headers["Cookie"] = f"sessionid={load.cookies[tenant.slug]}"
            method, path, body = "GET", "/", None
        elif kind == "api_list":
            headers["Authorization"] = f"Bearer {tenant.token}"
            method, path, body = "GET", "/api/v1/tasks?per_page=50", None
        elif kind == "api_create":
            headers["Authorization"] = f"Bearer {tenant.token}"
            method, path, body = (
                "POST",
                "/api/v1/tasks",
                {"title": f"{tenant.slug}-load-{uuid.uuid4().hex[:12]}"},
            )
            expected = 201
        else:
            method, path, body = "GET", "/", None
        started, t0 = time.time(), time.perf_counter()
        try:
            response = self.session.request(
                method,
                server.url(path),
                headers=headers,
                json=body,
                timeout=load.timeout_s,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            return Sample(
                kind, tenant.slug, started, time.perf_counter() - t0, 0, f"no answer: {type(exc).__name__}"
            )
        elapsed = time.perf_counter() - t0
        problem = ""
        if response.status_code != expected:
            problem = f"status {response.status_code}"
        else:
            found = {m.decode() for m in OWNED_TITLE_RE.findall(response.content)}
            allowed = set() if kind == "public" else {tenant.slug}
            if found - allowed:
                problem = f"wrong tenant: {sorted(found - allowed)} on {tenant.slug} {kind}"
            elif kind in ("page", "api_list") and tenant.slug not in found:
                problem = f"own data missing on {tenant.slug} {kind}"
        return Sample(kind, tenant.slug, started, elapsed, response.status_code, problem)


@dataclass
class Load:
    server: Gunicorn
    tenants: list[SeededTenant]
    cookies: dict[str, str]
    clients: int
    duration_s: float
    mix: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_MIX))
    timeout_s: float = 15.0
    deadline: float = 0.0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> LoadResult:
        result = LoadResult(started_at=time.time())
        self.deadline = time.monotonic() + self.duration_s
        workers = [_Client(self, seed) for seed in range(self.clients)]
        for worker in workers:
            worker.start()
        for worker in workers:
            # Bounded: every request has its own timeout, and no new one starts after the deadline.
            worker.join(timeout=self.duration_s + self.timeout_s + 30)
        self.stop.set()
        result.ended_at = time.time()
        for worker in workers:
            result.samples.extend(worker.samples)
        result.samples.sort(key=lambda s: s.started)
        return result
