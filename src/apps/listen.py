"""Where the services listen: addresses, loopback checks, the exposure warning."""

import ipaddress
import logging


def is_loopback(host: str) -> bool:
    """True when only this machine can reach ``host`` (127.0.0.0/8, ::1)."""
    return ipaddress.ip_address(host).is_loopback


def address(host: str, port: int) -> str:
    """``host:port``, with an IPv6 host in brackets (``[::1]:50051``)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def url_host(host: str) -> str:
    """The host to put in a URL a person on this machine can open.

    A wildcard bind (``0.0.0.0``, ``::``) is reachable on loopback too.
    """
    if ipaddress.ip_address(host).is_unspecified:
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def warn_if_exposed(
    log: logging.Logger,
    what: str,
    bound: str,
    host: str,
    token_variable: str,
    token: str | None,
) -> bool:
    """Log one warning when ``what`` is reachable from other machines without a token.

    Returns:
        True when the warning was logged.
    """
    if token or is_loopback(host):
        return False
    log.warning(
        "%s listens on %s without %s: anyone who can reach this address can use it",
        what,
        bound,
        token_variable,
    )
    return True
