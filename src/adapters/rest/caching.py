"""JSON data responses with a strong ETag, Cache-Control and 304 on a match."""

import hashlib
import json
from typing import Any

import falcon
from falcon.util import ETag


def etag_of(body: bytes) -> str:
    """A strong entity tag: the first 32 hex digits of the body's SHA-256."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(req: falcon.Request, tag: str) -> bool:
    wanted = req.if_none_match
    if wanted is None:
        return False
    return any(
        not isinstance(t, ETag) or (not t.is_weak and t.dumps() == tag) for t in wanted
    )


def send_json(
    req: falcon.Request, resp: falcon.Response, body: Any, max_age: int
) -> None:
    """Serialise ``body``; answer 304 without a body when the client has it."""
    data = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
    tag = etag_of(data)
    resp.set_header("ETag", tag)
    resp.cache_control = [f"max-age={max_age}", "private"]
    if _matches(req, tag):
        resp.status = falcon.HTTP_304
        return
    resp.content_type = falcon.MEDIA_JSON
    resp.data = data
