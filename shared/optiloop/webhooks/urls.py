"""Where a webhook may point: the URL rules, checked when a subscription is made and again at send time.

A webhook makes the platform send requests to an address a client chose, which is a server-side
request forgery risk: the cloud metadata service (169.254.169.254, fd00:ec2::254) hands out the
function's credentials, and loopback or private addresses reach services never meant to be public.
So a URL must be http(s), carry no credentials, and its host must resolve only to global addresses.

The host is resolved again before every send and the request goes to the address that was checked
(`Target`): a name that resolved to a public address when the subscription was made and to
127.0.0.1 later (DNS rebinding) is refused then, and a name cannot change between the check and the
connection. OPTILOOP_WEBHOOKS_ALLOW_PRIVATE=1 admits loopback and private addresses (local
development, the tests); link-local and metadata addresses stay refused whatever it says.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from optiloop.errors import FieldProblem, InvalidInput

ALLOW_PRIVATE_ENV = "OPTILOOP_WEBHOOKS_ALLOW_PRIVATE"
MAX_URL_LENGTH = 2048
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Names of metadata services that are not (only) link-local addresses.
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog", "metadata", "instance-data"})
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "fd00:ec2::23")
)

Resolver = Callable[[str, int], list[str]]


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (A and AAAA), as the system resolver answers."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


resolve: Resolver = system_resolve
"""The resolver in use (module level so that tests can point a name at an address)."""


def allow_private(env: dict[str, str] | None = None) -> bool:
    return (env if env is not None else os.environ).get(ALLOW_PRIVATE_ENV, "").strip() in ("1", "true")


def address_problem(ip: IpAddress, *, private_ok: bool) -> str | None:
    """Why the platform must not send to `ip`, or None."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if ip in METADATA_ADDRESSES:
        return f"{ip} is a cloud metadata address"
    if ip.is_link_local:
        return f"{ip} is a link-local address"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return f"{ip} is not a unicast address"
    if ip.is_loopback or ip.is_private or not ip.is_global:
        if private_ok:
            return None
        return f"{ip} is a loopback or private address (set {ALLOW_PRIVATE_ENV}=1 to allow, locally)"
    return None


@dataclass(frozen=True)
class Target:
    """A checked URL and the address to connect to."""

    url: str
    host: str
    port: int
    address: str

    def pinned_url(self) -> str:
        """The URL with the host replaced by the checked address (the Host header and TLS name keep
        the host: see `optiloop.webhooks.send`)."""
        parts = urlsplit(self.url)
        addr = f"[{self.address}]" if ":" in self.address else self.address
        netloc = f"{addr}:{self.port}"
        return parts._replace(netloc=netloc).geturl()


def _parts(url: str) -> tuple[SplitResult, str, int]:
    """Syntax: scheme, no credentials, a host; raises ValueError naming the reason."""
    if not isinstance(url, str) or not url:
        raise ValueError("must be a non-empty URL")
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"at most {MAX_URL_LENGTH} characters")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise ValueError("must not contain whitespace or control characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("must be an http:// or https:// URL")
    if "@" in parts.netloc:
        raise ValueError("must not carry credentials (user:password@); authenticate with the signature")
    if not parts.hostname:
        raise ValueError("must name a host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValueError("has an invalid port") from None
    return parts, parts.hostname.rstrip(".").lower(), port


def check(url: str, *, private_ok: bool | None = None, resolver: Resolver | None = None) -> Target:
    """The URL's checked target; raises ValueError with the reason (the caller names the field).

    Every address the host resolves to must be allowed, not only one: a client's resolver may pick
    another of them than ours."""
    ok = allow_private() if private_ok is None else private_ok
    _, host, port = _parts(url)
    if host in METADATA_HOSTS:
        raise ValueError(f"host {host!r} is a cloud metadata service")
    if (host == "localhost" or host.endswith(".localhost")) and not ok:
        raise ValueError(f"host {host!r} is loopback (set {ALLOW_PRIVATE_ENV}=1 to allow, locally)")
    try:
        literal: IpAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = (resolver or resolve)(host, port)
        except OSError as e:
            raise ValueError(f"host {host!r} does not resolve ({e.__class__.__name__})") from None
        if not addresses:
            raise ValueError(f"host {host!r} does not resolve")
    for a in addresses:
        why = address_problem(ipaddress.ip_address(a.split("%", 1)[0]), private_ok=ok)
        if why is not None:
            raise ValueError(f"host {host!r} resolves to {why}" if literal is None else why)
    return Target(url=url, host=host, port=port, address=addresses[0].split("%", 1)[0])


def validate(url: str, field: str = "url") -> Target:
    """`check`, or the 422 naming `field`."""
    try:
        return check(url)
    except ValueError as e:
        raise InvalidInput(FieldProblem(field, str(e))) from None
