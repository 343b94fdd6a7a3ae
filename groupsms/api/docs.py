"""/api/v1/docs: the OpenAPI document as one readable page, served by the app itself (no scripts, no
outside assets: the page works offline and under the app's Content-Security-Policy)."""

from __future__ import annotations

import html
import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

_STYLE = """body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code,pre{font:13px ui-monospace,monospace;background:#f4f4f6;border-radius:4px}pre{padding:.6rem;overflow:auto}
.op{border-top:1px solid #ddd;padding:.8rem 0}.m{font-weight:700;display:inline-block;width:4.5rem}
h3{margin:.2rem 0}table{border-collapse:collapse}td,th{text-align:left;padding:2px 10px 2px 0;vertical-align:top}"""


def _schema_text(schema: dict) -> str:
    return html.escape(json.dumps(schema, indent=2)[:4000])


def render(doc: dict) -> str:
    e = html.escape
    out = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(doc['info']['title'])}</title>",
           f"<style>{_STYLE}</style></head><body><h1>{e(doc['info']['title'])} v{e(doc['info']['version'])}</h1>",
           f"<p>{e(doc['info'].get('description', ''))}</p>",
           "<p>Base URL: <code>/api/v1</code>. Send <code>Authorization: Bearer &lt;token&gt;</code>. "
           "The machine-readable document is <a href='openapi.json'>openapi.json</a> (OpenAPI 3.1).</p>",
           "<h2 id='problem-invalid'>Errors</h2><p>Errors are RFC 9457 problem details "
           "(<code>application/problem+json</code>) with <code>type</code>, <code>title</code>, "
           "<code>status</code>, <code>detail</code>; a refused input lists <code>errors</code> as "
           "<code>{field, rule, message}</code>. 401: no or bad token; 403: missing scope or role; 404: not found "
           "(or not yours: the same answer); 409: duplicate group, with <code>existing_group_id</code>; "
           "422: invalid input; 429: rate limit, with <code>Retry-After</code>.</p>",
           "<h2>Pagination</h2><p>Lists answer <code>{\"data\": [...], \"next_cursor\": ...}</code>; pass "
           "<code>?cursor=&lt;next_cursor&gt;</code> for the next page until it is <code>null</code>.</p>",
           "<h2>Endpoints</h2>"]
    for path, operations in doc.get("paths", {}).items():
        for method, op in operations.items():
            out.append(f"<div class='op'><h3><span class='m'>{e(method.upper())}</span><code>{e(path)}</code></h3>")
            out.append(f"<p>{e(op.get('summary', ''))}</p>")
            params = op.get("parameters", [])
            if params:
                out.append("<table><tr><th>Parameter</th><th>In</th><th>Schema</th></tr>")
                for p in params:
                    out.append(f"<tr><td><code>{e(p['name'])}</code>{' (required)' if p.get('required') else ''}"
                               f"</td><td>{e(p['in'])}</td><td><code>{e(json.dumps(p.get('schema', {})))}</code></td></tr>")
                out.append("</table>")
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body:
                out.append(f"<p>Body:</p><pre>{_schema_text(body)}</pre>")
            codes = ", ".join(e(c) for c in op.get("responses", {}))
            out.append(f"<p>Answers: {codes}</p></div>")
    out.append("<h2>Schemas</h2>")
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        out.append(f"<h3 id='schema-{e(name)}'>{e(name)}</h3><pre>{_schema_text(schema)}</pre>")
    out.append("</body></html>")
    return "".join(out)


@router.get("/docs", response_class=HTMLResponse)
def docs_page(request: Request) -> HTMLResponse:
    return HTMLResponse(render(request.app.openapi()))
