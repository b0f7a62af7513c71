"""The one definition of a host name as routing sees it.

Request hosts (middleware), stored and entered domains (services, admin) and hosts typed
at the command line all pass through `host_normalise`, so a host that routes is exactly a
host that can be registered, and the same string means the same host everywhere.
"""

import re

# One DNS label: ASCII letters (already lowercased), digits and inner hyphens, 1-63 characters.
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_PORT_RE = re.compile(r"^[0-9]{1,5}$")
HOST_MAX_LENGTH = 253


def host_normalise(host: str | None, *, port_allowed: bool = True) -> str | None:
    """`host` lowercased, surrounding whitespace, a port (if `port_allowed`) and one trailing
    dot removed; None if what is left is not a host name.

    A host name is dot-separated labels of ASCII letters, digits and inner hyphens, at most
    253 characters. Unicode hosts are refused, not converted: browsers send the punycode
    (`xn--...`) form, which is what staff register. IPv6 literals are refused (no tenant
    can have one); dotted IPv4 addresses pass here and are refused as domains by
    `tenants.services.domain_normalize`.
    """
    host = (host or "").strip().lower()
    if ":" in host:
        if not port_allowed:
            return None
        host, _sep, port = host.rpartition(":")
        if not _PORT_RE.match(port):
            return None
    host = host.removesuffix(".")
    if not host or len(host) > HOST_MAX_LENGTH:
        return None
    if not all(_LABEL_RE.match(label) for label in host.split(".")):
        return None
    return host
