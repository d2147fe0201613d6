"""Page-numbered pagination with GitHub's `Link` header."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any

from bot.simulator.request import ApiError, RequestContext, Response


def paginate(ctx: RequestContext, items: list[Any], render: Callable[[Any], Any]) -> Response:
    """One page of `items` (`page`, `per_page` ≤ 100), with prev/first/next/last links."""
    per_page = min(int(ctx.query.get("per_page", 30)), 100)
    page = max(int(ctx.query.get("page", 1)), 1)
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    links = []
    parsed = urllib.parse.urlsplit(ctx.url)
    base_query = [(k, v) for k, v in urllib.parse.parse_qsl(parsed.query) if k != "page"]

    def link(n: int, rel: str) -> str:
        q = urllib.parse.urlencode([*base_query, ("page", str(n))])
        return f'<{parsed.scheme}://{parsed.netloc}{parsed.path}?{q}>; rel="{rel}"'

    if page > 1:
        links += [link(page - 1, "prev"), link(1, "first")]
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    headers = {"Link": ", ".join(links)} if links else {}
    return Response(200, [render(i) for i in chunk], headers)


def paginate_by_cursor(
    ctx: RequestContext,
    items: list[Any],
    key: Callable[[Any], int],
    render: Callable[[Any], Any],
) -> Response:
    """One page of `items` (newest first) from `cursor`, with next/prev links as GitHub sends.

    A cursor is opaque to clients; here it is `v1_<key>` of the first item of the page.
    """
    per_page = min(int(ctx.query.get("per_page", 30)), 100)
    start = 0
    cursor = ctx.query.get("cursor")
    if cursor:
        prefix, _, number = str(cursor).partition("_")
        if prefix != "v1" or not number.isdigit():
            raise ApiError(
                422,
                "Validation Failed",
                [{"resource": "cursor", "code": "invalid", "field": "cursor"}],
            )
        start = next((i for i, item in enumerate(items) if key(item) <= int(number)), len(items))
    chunk = items[start : start + per_page]
    parsed = urllib.parse.urlsplit(ctx.url)
    base_query = [(k, v) for k, v in urllib.parse.parse_qsl(parsed.query) if k != "cursor"]

    def link(item: Any, rel: str) -> str:
        q = urllib.parse.urlencode([*base_query, ("cursor", f"v1_{key(item)}")])
        return f'<{parsed.scheme}://{parsed.netloc}{parsed.path}?{q}>; rel="{rel}"'

    links = []
    if start + per_page < len(items):
        links.append(link(items[start + per_page], "next"))
    if start > 0:
        links.append(link(items[max(0, start - per_page)], "prev"))
    headers = {"Link": ", ".join(links)} if links else {}
    return Response(200, [render(i) for i in chunk], headers)
