"""The console's sign-in: the API token, given once, kept as an HttpOnly cookie.

When the API has a token (``MONITORING_API_TOKEN``), every console page needs
either the REST API's ``Authorization: Bearer <token>`` header or the cookie
the login form sets. The cookie holds an HMAC of the token, not the token, and
is ``HttpOnly`` and ``SameSite=Strict`` (``Secure`` over HTTPS). The static
files and the login form itself are open.
"""

import hashlib
import hmac
from urllib.parse import quote

import falcon

from adapters.rest.middleware import bearer_token

COOKIE = "monitoring_console"
OPEN_PREFIXES = ("/ui/static/", "/ui/login")
COOKIE_SECONDS = 12 * 3600


def session_value(token: str) -> str:
    """What the cookie holds for this token."""
    return hmac.new(token.encode(), b"monitoring console", hashlib.sha256).hexdigest()


def safe_next(target: str | None) -> str:
    """A console path to return to after signing in (never another site)."""
    if not target or not target.startswith("/ui") or target.startswith("//"):
        return "/ui"
    return target


class ConsoleAuth:
    """Sends a console request without the token or the cookie to the login form."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()
        self._session = session_value(token).encode()

    def allowed(self, req: falcon.Request) -> bool:
        """Whether the request carries the bearer token or the session cookie."""
        given = bearer_token(req.get_header("Authorization") or "")
        if given is not None and hmac.compare_digest(given.encode(), self._token):
            return True
        cookie = (req.get_cookie_values(COOKIE) or [""])[0]
        return hmac.compare_digest(cookie.encode(), self._session)

    def process_request(self, req: falcon.Request, _resp: falcon.Response) -> None:
        path = req.path
        if not (path == "/ui" or path.startswith("/ui/")):
            return
        if path.startswith(OPEN_PREFIXES) or self.allowed(req):
            return
        raise falcon.HTTPSeeOther(f"/ui/login?next={quote(req.relative_uri, safe='')}")


def set_session(req: falcon.Request, resp: falcon.Response, token: str) -> None:
    """Sign the browser in."""
    resp.set_cookie(
        COOKIE,
        session_value(token),
        max_age=COOKIE_SECONDS,
        path="/ui",
        secure=req.scheme == "https",
        http_only=True,
        same_site="Strict",
    )


def clear_session(resp: falcon.Response) -> None:
    """Sign the browser out."""
    resp.unset_cookie(COOKIE, path="/ui", same_site="Strict")
