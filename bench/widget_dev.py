"""A storefront stand-in for the theme app extension: it renders the loyalty block (and the
app embed) from the extension's own Liquid, the way a theme does, serves its assets, and
forwards ``/apps/loyalty/*`` to the app's ``/proxy/*`` signed exactly as Shopify's app proxy
signs (https://shopify.dev/docs/apps/build/online-store/app-proxies/authenticate-app-proxies).

The browser tests drive it; a developer runs it against a running app:

    python -m bench.widget_dev --app-url http://127.0.0.1:5000 --shop demo.myshopify.com

then opens http://127.0.0.1:8780/account/login?customer_id=1001 (signs in as that customer;
``/account/logout`` signs out). Liquid is python-liquid with the few Shopify filters the
extension uses (``t``, ``json``); a Liquid error fails the page, so a broken block fails a test.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import html
import http.client
import json
import os
import re
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liquid import Environment, FileSystemLoader, StrictUndefined
from werkzeug.serving import run_simple
from werkzeug.wrappers import Request, Response

EXTENSION = Path(__file__).resolve().parents[1] / "extensions" / "loyalty-widget"
PROXY_PREFIX = "/apps/loyalty"
CUSTOMER_COOKIE = "storefront_customer"
SCHEMA = re.compile(r"{%-?\s*schema\s*-?%}(.*?){%-?\s*endschema\s*-?%}", re.S)
# Shopify forwards the request's own headers but never the shop's cookies.
FORWARDED_HEADERS = ("Accept", "Content-Type", "Idempotency-Key", "User-Agent", "X-Request-Id")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}


def signed_query(query: list[tuple[str, str]], shop: str, customer: int | None, secret: str,
                 now: float | None = None) -> list[tuple[str, str]]:
    """The query Shopify forwards: the visitor's parameters plus shop, customer, prefix and
    time, signed over all of them sorted by name, a repeated key's values joined by commas."""
    params = [*query, ("shop", shop),
              ("logged_in_customer_id", "" if customer is None else str(customer)),
              ("path_prefix", PROXY_PREFIX), ("timestamp", str(int(now or time.time())))]
    grouped: dict[str, list[str]] = {}
    for key, value in params:
        grouped.setdefault(key, []).append(value)
    message = "".join(f"{key}={','.join(values)}" for key, values in sorted(grouped.items()))
    signature = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return [*params, ("signature", signature)]


def _translations(locale: str) -> dict[str, Any]:
    default: dict[str, Any] = json.loads((EXTENSION / "locales" / "en.default.json").read_text())
    path = EXTENSION / "locales" / f"{locale}.json"
    return json.loads(path.read_text()) if path.exists() else default


def _lookup(tree: dict[str, Any], key: str) -> str | None:
    node: Any = tree
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, str) else None


def _environment(locale: str) -> Environment:
    """python-liquid with Shopify's ``t`` (HTML-escaped, as Shopify escapes translations)
    and ``json`` (``<``, ``>`` and ``&`` escaped, safe inside a script tag)."""
    own, default = _translations(locale), _translations("en.default")
    env = Environment(loader=FileSystemLoader(EXTENSION / "snippets", ext=".liquid"),
                      undefined=StrictUndefined)

    def translate(key: str) -> str:
        text = _lookup(own, key) or _lookup(default, key)
        if text is None:
            raise KeyError(f"no translation for {key}")
        return html.escape(text)

    def to_json(value: object) -> str:
        text = json.dumps(value, ensure_ascii=False)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

    env.filters["t"] = translate
    env.filters["json"] = to_json
    return env


@dataclass(frozen=True)
class Block:
    """An app block or embed as placed in a theme: its file, id and the merchant's settings."""

    file: str
    id: str
    settings: dict[str, Any] = field(default_factory=dict)

    def schema(self) -> dict[str, Any]:
        source = (EXTENSION / "blocks" / self.file).read_text()
        found = SCHEMA.search(source)
        assert found, f"{self.file} has no schema"
        schema: dict[str, Any] = json.loads(found.group(1))
        return schema

    def render(self, env: Environment, globals_: dict[str, Any]) -> str:
        source = SCHEMA.sub("", (EXTENSION / "blocks" / self.file).read_text())
        defaults = {s["id"]: s.get("default", "") for s in self.schema()["settings"] if "id" in s}
        block = {"id": self.id, "shopify_attributes": "", "settings": {**defaults, **self.settings}}
        return str(env.from_string(source).render(**globals_, block=block))


@dataclass
class StoreFront:
    """The shop's storefront: pages with the blocks, assets, and the app proxy forwarder."""

    app_url: str
    shop: str
    secret: str
    blocks: list[Block] = field(default_factory=lambda: [Block("loyalty.liquid", "main")])
    locale: str = "en"
    currency: str = "USD"
    # Called with (path, forwarded query) for every proxied request (tests read what was sent).
    on_forward: Callable[[str, list[tuple[str, str]]], None] | None = None

    def page(self, customer: int | None) -> str:
        env = _environment(self.locale)
        globals_ = {
            "customer": {"id": customer, "first_name": "Ann"} if customer else None,
            "routes": {"account_login_url": "/account/login",
                       "account_register_url": "/account/register", "root_url": "/"},
            "request": {"locale": {"iso_code": self.locale}},
            "shop": {"currency": self.currency, "url": f"https://{self.shop}",
                     "permanent_domain": self.shop},
        }
        assets: list[str] = []
        for block in self.blocks:  # Shopify adds each asset a block's schema names, once
            schema = block.schema()
            for name in (schema.get("stylesheet"), schema.get("javascript")):
                if name and name not in assets:
                    assets.append(name)
        head = "".join(f'<link rel="stylesheet" href="/assets/{n}">' if n.endswith(".css")
                       else f'<script src="/assets/{n}" defer></script>' for n in assets)
        main = [b.render(env, globals_) for b in self.blocks if b.schema()["target"] == "section"]
        body = [b.render(env, globals_) for b in self.blocks if b.schema()["target"] == "body"]
        return (f'<!doctype html><html lang="{self.locale}"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>Rewards – {html.escape(self.shop)}</title>{head}</head><body>"
                f'<header class="theme-header"><a href="/">{html.escape(self.shop)}</a></header>'
                f'<main class="theme-section">{"".join(main)}</main>{"".join(body)}</body></html>')

    def forward(self, request: Request) -> Response:
        path = request.path[len(PROXY_PREFIX):]
        query = signed_query(list(request.args.items(multi=True)), self.shop,
                             _customer(request), self.secret)
        if self.on_forward is not None:
            self.on_forward(path, query)
        target = urllib.parse.urlsplit(self.app_url)
        headers = {h: request.headers[h] for h in FORWARDED_HEADERS if h in request.headers}
        headers["X-Forwarded-For"] = request.remote_addr or "127.0.0.1"
        connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port,
                                                timeout=30)
        try:
            connection.request(request.method, f"{target.path}/proxy{path}?"
                               + urllib.parse.urlencode(query), body=request.get_data(),
                               headers=headers)
            answer = connection.getresponse()
            return Response(answer.read(), status=answer.status, headers=[
                (k, v) for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP])
        finally:
            connection.close()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        response = self.route(request)
        return response(environ, start_response)

    def route(self, request: Request) -> Response:
        path = request.path
        if path == PROXY_PREFIX or path.startswith(PROXY_PREFIX + "/"):
            return self.forward(request)
        if path.startswith("/assets/"):
            return _asset(path.removeprefix("/assets/"))
        if path == "/account/login" and request.args.get("customer_id", "").isdigit():
            response = Response(status=302, headers={"Location": "/"})
            response.set_cookie(CUSTOMER_COOKIE, request.args["customer_id"], httponly=True)
            return response
        if path == "/account/logout":
            response = Response(status=302, headers={"Location": "/"})
            response.delete_cookie(CUSTOMER_COOKIE)
            return response
        if path.startswith("/discount/"):
            code = html.escape(urllib.parse.unquote(path.removeprefix("/discount/")))
            return Response(f"<!doctype html><title>Discount</title><p>{code} applied.</p>",
                            mimetype="text/html")
        if path in ("/", "/pages/rewards"):
            return Response(self.page(_customer(request)), mimetype="text/html")
        return Response("Not found", status=404)


def _customer(request: Request) -> int | None:
    value = request.cookies.get(CUSTOMER_COOKIE, "")
    return int(value) if value.isdigit() else None


def _asset(name: str) -> Response:
    path = (EXTENSION / "assets" / name).resolve()
    if path.parent != (EXTENSION / "assets").resolve() or not path.is_file():
        return Response("Not found", status=404)
    kinds = {".js": "text/javascript", ".css": "text/css"}
    response = Response(path.read_bytes(), mimetype=kinds.get(path.suffix,
                                                              "application/octet-stream"))
    response.headers["Cache-Control"] = "no-cache"
    return response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app-url", default="http://127.0.0.1:5000")
    parser.add_argument("--shop", required=True, help="the shop's myshopify.com domain")
    parser.add_argument("--secret", default=os.environ.get("SHOPIFY_API_SECRET", ""),
                        help="the app's secret (default: $SHOPIFY_API_SECRET)")
    parser.add_argument("--port", type=int, default=8780)
    parser.add_argument("--locale", default="en")
    parser.add_argument("--embed", action="store_true", help="add the floating launcher")
    args = parser.parse_args()
    if not args.secret:
        from shopify_loyalty.config import Settings

        args.secret = Settings.from_env().shopify_api_secret
    blocks = [Block("loyalty.liquid", "main")]
    if args.embed:
        blocks.append(Block("loyalty-embed.liquid", "embed"))
    store = StoreFront(args.app_url, args.shop, args.secret, blocks=blocks, locale=args.locale)
    print(f"storefront for {args.shop} on http://127.0.0.1:{args.port}/ → {args.app_url}/proxy")
    print(f"sign in: http://127.0.0.1:{args.port}/account/login?customer_id=1001")
    run_simple("127.0.0.1", args.port, store, threaded=True)


if __name__ == "__main__":
    main()
