"""A self-contained HTML page rendered from the OpenAPI document (no CDN)."""

import json
from html import escape
from typing import Any

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
code,pre{background:#f4f4f4;border-radius:4px}pre{padding:.5rem;overflow:auto}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem}
.op{border-left:4px solid #36c;padding-left:1rem;margin:1.5rem 0}
"""


def _schema_name(schema: dict[str, Any]) -> str:
    target = schema.get("$ref", "")
    return target.rsplit("/", 1)[-1] if target else json.dumps(schema)


def _parameters(parameters: list[dict[str, Any]]) -> str:
    if not parameters:
        return "<p>No parameters.</p>"
    rows = "".join(
        f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['in'])}</td>"
        f"<td><code>{escape(json.dumps(p['schema']))}</code></td>"
        f"<td>{escape(p.get('description', ''))}</td></tr>"
        for p in parameters
    )
    head = "<tr><th>name</th><th>in</th><th>schema</th><th>meaning</th></tr>"
    return f"<table>{head}{rows}</table>"


def _responses(responses: dict[str, Any]) -> str:
    items = []
    for code, response in responses.items():
        media = response.get("content", {})
        bodies = ", ".join(
            f"<code>{escape(m)}</code> {escape(_schema_name(c['schema']))}"
            for m, c in media.items()
        )
        text = escape(response["description"])
        items.append(f"<li><b>{code}</b> {text} {bodies}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _operation(path: str, method: str, op: dict[str, Any]) -> str:
    lock = " (bearer token when configured)" if op.get("security") else ""
    return (
        f'<div class="op"><h3><code>{method.upper()} {escape(path)}</code></h3>'
        f"<p>{escape(op['summary'])}{lock}</p>"
        f"{_parameters(op.get('parameters', []))}{_responses(op['responses'])}</div>"
    )


def render(document: dict[str, Any]) -> str:
    """Every operation with its parameters and responses, then every schema."""
    info = document["info"]
    operations = "".join(
        _operation(path, method, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
    )
    schemas = "".join(
        f'<h3 id="{escape(name)}">{escape(name)}</h3>'
        f"<pre>{escape(json.dumps(schema, indent=2))}</pre>"
        for name, schema in document["components"]["schemas"].items()
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(info['title'])}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(info['title'])} v{escape(info['version'])}</h1>"
        f"<p>{escape(info['description'])}</p>"
        '<p>Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>'
        f"<h2>Operations</h2>{operations}<h2>Schemas</h2>{schemas}</body></html>"
    )
