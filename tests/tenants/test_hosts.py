"""host_normalise: the one host-name rule for routing, domains and commands (no database)."""

import pytest

from tenants.hosts import host_normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("acme.localhost", "acme.localhost"),
        ("ACME.LocalHost", "acme.localhost"),
        ("acme.localhost.", "acme.localhost"),
        ("acme.localhost:8000", "acme.localhost"),
        ("acme.localhost.:8000", "acme.localhost"),
        ("  tasks.acme-corp.example  ", "tasks.acme-corp.example"),
        ("localhost", "localhost"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("10.0.0.1", "10.0.0.1"),
        ("a" * 63 + ".example", "a" * 63 + ".example"),
    ],
)
def test_host_normalise_accepts_and_normalises(raw, expected):
    assert host_normalise(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        None,
        ".",
        "acme.localhost..",  # only one trailing dot is a fully qualified name
        ".acme.localhost",
        "acme..localhost",
        "-acme.example",
        "acme-.example",
        "bad host",
        "under_score.example",
        "https://acme.example",
        "acme.example:port",
        "acme.example:123456",
        "[::1]:8000",
        "bücher.example",
        "a" * 64 + ".example",
        ("a" * 60 + ".") * 5,
    ],
)
def test_host_normalise_rejects_what_is_not_a_host(raw):
    assert host_normalise(raw) is None


def test_a_port_is_refused_where_ports_do_not_belong():
    assert host_normalise("acme.example:8000", port_allowed=False) is None
    assert host_normalise("acme.example.", port_allowed=False) == "acme.example"
