"""WordPress REST argument handling for the simulator: validation errors and paging headers.

Mirrors WP_REST_Request::has_valid_params() (all invalid params reported at once as
``rest_invalid_param`` with ``params`` and ``details``), rest_validate_value_from_schema()
messages, and the X-WP-Total / X-WP-TotalPages / Link headers built by WooCommerce's
get_items() with add_query_arg().
"""
from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any, Sequence
from urllib.parse import parse_qsl, urlsplit

from starlette.datastructures import QueryParams

from .errors import WCError

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?$")


def wp_list(items: Sequence[str]) -> str:
    """wp_sprintf('%l'): "a, b, and c" / "a and b"."""
    items = list(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


class Args:
    """Reads and validates query (or body) arguments; call :meth:`check` once at the end."""

    def __init__(self, values: QueryParams | dict[str, Any]):
        self.values = values
        self.invalid: dict[str, tuple[str, str]] = {}

    def _raw(self, name: str) -> Any:
        return self.values.get(name)

    def _fail(self, name: str, code: str, message: str) -> None:
        self.invalid.setdefault(name, (code, message))

    def int(self, name: str, default: int | None = None, minimum: int | None = None,
            maximum: int | None = None) -> int | None:
        raw = self._raw(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(str(raw))
        except ValueError:
            self._fail(name, "rest_invalid_type", f"{name} is not of type integer.")
            return default
        if minimum is not None and maximum is not None and not minimum <= value <= maximum:
            self._fail(name, "rest_out_of_bounds",
                       f"{name} must be between {minimum} (inclusive) and {maximum} (inclusive)")
        elif minimum is not None and maximum is None and value < minimum:
            self._fail(name, "rest_out_of_bounds",
                       f"{name} must be greater than or equal to {minimum}")
        return value

    def bool(self, name: str, default: bool = False) -> bool:
        raw = self._raw(name)
        if raw is None:
            return default
        text = str(raw).lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0", ""):
            return False
        self._fail(name, "rest_invalid_type", f"{name} is not of type boolean.")
        return default

    def enum(self, name: str, choices: Sequence[str], default: str | None) -> str | None:
        raw = self._raw(name)
        if raw is None:
            return default
        if raw not in choices:
            self._fail(name, "rest_not_in_enum", f"{name} is not one of {wp_list(choices)}.")
            return default
        return str(raw)

    def enum_list(self, name: str, choices: Sequence[str], default: list[str]) -> list[str]:
        """Array args: ``status=a,b`` or ``status[]=a&status[]=b``."""
        values = self.list(name)
        if not values:
            return default
        for i, value in enumerate(values):
            if value not in choices:
                self._fail(name, "rest_not_in_enum",
                           f"{name}[{i}] is not one of {wp_list(choices)}.")
                return default
        return values

    def list(self, name: str) -> list[str]:
        if isinstance(self.values, QueryParams):
            raw = self.values.getlist(name + "[]") or self.values.getlist(name)
        else:
            raw = self.values.get(name) or []
            raw = raw if isinstance(raw, list) else [raw]
        out: list[str] = []
        for item in raw:
            out.extend(p.strip() for p in str(item).split(",") if p.strip())
        return out

    def int_list(self, name: str) -> list[int]:
        out = []
        for value in self.list(name):
            if not value.isdigit():
                self._fail(name, "rest_invalid_type", f"{name}[{len(out)}] is not of type integer.")
                return []
            out.append(int(value))
        return out

    def date(self, name: str) -> datetime | None:
        """A date-time argument, returned as an aware datetime (naive input is taken as UTC
        and re-interpreted by the caller according to dates_are_gmt)."""
        raw = self._raw(name)
        if raw is None or raw == "":
            return None
        text = str(raw)
        if not _RFC3339.match(text):
            self._fail(name, "rest_invalid_date", "Invalid date.")
            return None
        text = text.replace(" ", "T").replace("z", "Z").replace("Z", "+00:00")
        parsed = datetime.fromisoformat(text)
        return parsed

    def check(self) -> None:
        if self.invalid:
            names = ", ".join(self.invalid)
            raise WCError("rest_invalid_param", f"Invalid parameter(s): {names}", 400,
                          params={k: m for k, (_, m) in self.invalid.items()},
                          details={k: {"code": c, "message": m, "data": None}
                                   for k, (c, m) in self.invalid.items()})


def to_frame(value: datetime | None, gmt: bool, utc_offset: timedelta) -> datetime | None:
    """Express a parsed date argument in the frame it is compared in (naive datetime):
    GMT when dates_are_gmt, else site-local time. Naive input is already in that frame."""
    if value is None or value.tzinfo is None:
        return value
    utc = value.astimezone(UTC).replace(tzinfo=None)
    return utc if gmt else utc + utc_offset


def _php_query(pairs: list[tuple[str, str]]) -> str:
    # build_query() = _http_build_query(..., urlencode=false): values are NOT encoded, only
    # array brackets in keys are written as %5B / %5D.
    return "&".join(f"{k.replace('[', '%5B').replace(']', '%5D')}={v}" for k, v in pairs)


def _request_pairs(query: QueryParams) -> list[tuple[str, str]]:
    """$request->get_query_params() as PHP sees $_GET: a repeated plain key keeps its last
    value, ``key[]`` values become key[0], key[1], ..."""
    pairs: dict[str, str] = {}
    counters: dict[str, int] = {}
    for key, value in query.multi_items():
        if key.endswith("[]"):
            base = key[:-2]
            index = counters.get(base, 0)
            counters[base] = index + 1
            pairs[f"{base}[{index}]"] = value
        else:
            pairs[key] = value
    return list(pairs.items())


def add_query_arg(key: str, value: Any, url: str) -> str:
    """add_query_arg($key, $value, $url): parse (decoding!), set, rebuild unencoded."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    for i, (k, _) in enumerate(pairs):
        if k == key:
            pairs[i] = (k, str(value))
            break
    else:
        pairs.append((key, str(value)))
    base = url.split("?", 1)[0]
    return f"{base}?{_php_query(pairs)}"


def paging_headers(collection_url: str, query: QueryParams, page: int, per_page: int,
                   total: int) -> dict[str, str]:
    """X-WP-Total, X-WP-TotalPages and Link exactly as WC_REST_CRUD_Controller::get_items()."""
    max_pages = math.ceil(total / per_page) if per_page else 0
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(max_pages)}
    pairs = _request_pairs(query)
    base = f"{collection_url}?{_php_query(pairs)}" if pairs else collection_url
    links = []
    if page > 1:
        prev_page = min(page - 1, max_pages)
        links.append(f'<{add_query_arg("page", prev_page, base)}>; rel="prev"')
    if max_pages > page:
        links.append(f'<{add_query_arg("page", page + 1, base)}>; rel="next"')
    if links:
        # WP_HTTP_Response::header($key, $value, false) joins repeated headers with ", ".
        headers["Link"] = ", ".join(links)
    return headers
