"""Asset Management v3 (reference section 2, contract in section 7).

Assets, aspect types and asset types with HAL paging, the JSON filter syntax, etags and soft delete.

Visibility and sharing (reference 2.1, 2.4, 6; the SDK's ``SharingResource``):
- Assets and types received from other tenants (``sharing.modes`` ``["RECEIVER"]``, ``tenantId`` = the
  owner tenant) are listed and readable only with ``includeShared=true``; otherwise they are 404, as the
  reference says for shared resources. They are read-only: a write with ``includeShared=true`` is 403
  (``mdsp.core.assetmanagement.sharedResourceReadOnly``, the simulator's pick), without it 404. A
  received type cannot be instantiated (400).
- Assets this tenant shares with others carry ``["SHARER"]`` and stay writable. ``sharing`` is always
  present (``{"modes": []}`` when not shared), as in the reference's asset example.
- Soft delete: ``DELETE`` sets ``deleted`` (the simulator clock, ISO 8601 UTC with milliseconds). A
  deleted asset is never readable or writable one by one (404: only admins could read it, and the
  simulator has none) and is listed only when the filter names the ``deleted`` field (e.g.
  ``{"deleted": {"after": ...}}``), which is how the timestamp operators can be used on it.

Model lock (reference 2.1 ``GET``/``PUT /model/lock``; the SDK: "restrictions on update/delete
operations on assettypes and aspecttypes"): while it is enabled, changing or deleting an existing aspect
or asset type is refused with 409 ``mdsp.core.assetmanagement.modelLocked`` (status and code are the
simulator's pick); creating new types stays possible, as the Asset Manager docs say.

Asset pages are built without copying the tenant's objects (hierarchy paths memoised per parent) and
encoded with msgspec while the tenant lock is held (``tui.sim.encoding``).
"""

from __future__ import annotations

import copy
import hashlib
import re
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tui.sim.encoding import FastJSONResponse
from tui.sim.errors import SimHTTPError
from tui.sim.filters import (
    compile_filter,
    hal_page,
    json_object,
    mentions_field,
    parse_bool,
    parse_filter_json,
    parse_paging,
    parse_sort,
    query_value,
    sort_records,
    top_level_equals,
)
from tui.sim.model import (
    AspectType,
    Asset,
    AssetType,
    AssetTypeAspect,
    TenantState,
    VariableDef,
    aspects_of_type,
    type_chain,
    variables_of_type,
)
from tui.sim.security import require_token

PREFIX = "/api/assetmanagement/v3"
AM_READ = "mdsp:core:assetmanagement.read"
AM_WRITE = "mdsp:core:assetmanagement.write"
ASSET_ID = re.compile(r"^[a-f0-9]{32}$")
DATA_TYPES = ("BOOLEAN", "INT", "LONG", "DOUBLE", "STRING", "TIMESTAMP", "BIG_STRING")
RESERVED_NAMES = {
    "id", "name", "description", "tenant", "etag", "scope", "properties", "propertySets", "extends",
    "variables", "aspects", "parentTypeId",
}  # fmt: skip
TWIN_TYPES = ("performance", "simulation")
ASSET_SORT_FIELDS = ("name", "assetId", "typeId", "parentId", "externalId", "timezone", "twinType", "deleted")
TYPE_SORT_FIELDS = ("name", "id", "parentTypeId", "category", "scope")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_]+$")


# ---------------------------------------------------------------- helpers


def _state(request: Request) -> TenantState:
    return request.app.state.tenant


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


def _now_iso(request: Request) -> str:
    now = request.app.state.config.clock()
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(now * 1000) % 1000:03d}Z"


def _bad(message: str, code: str = "mdsp.core.assetmanagement.badRequest") -> SimHTTPError:
    return SimHTTPError(400, message, code=code)


def _not_found(kind: str, ident: str) -> SimHTTPError:
    return SimHTTPError(
        404,
        f"{kind} with id '{ident}' not found",
        code=f"mdsp.core.assetmanagement.{kind[0].lower()}{kind[1:].replace(' ', '')}NotFound",
        message_parameters=[{"name": "id", "value": ident}],
    )


async def _json_body(request: Request) -> dict[str, Any]:
    return await json_object(request, _bad)


def _etag_header(request: Request, name: str) -> str | None:
    value = request.headers.get(name)
    if value is None:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip().strip('"').strip()


def _check_if_match(request: Request, etag: int, what: str) -> None:
    """428 without ``If-Match``; 412 when it does not match (quotes optional, ``*`` matches)."""
    value = _etag_header(request, "if-match")
    if value is None or value == "":
        raise SimHTTPError(
            428,
            f"Updating the {what} requires an If-Match header with its current etag",
            code="mdsp.core.assetmanagement.ifMatchRequired",
        )
    if value == "*":
        return
    if value != str(etag):
        raise SimHTTPError(
            412,
            f"The {what} was modified: If-Match {value} does not match the current etag {etag}",
            code="mdsp.core.assetmanagement.etagMismatch",
            message_parameters=[{"name": "etag", "value": str(etag)}],
        )


def _not_modified(request: Request, etag: int) -> bool:
    value = _etag_header(request, "if-none-match")
    return value is not None and (value == "*" or value == str(etag))


def _resource_response(body: dict[str, Any], etag: int, status: int = 200, **headers: str) -> JSONResponse:
    return FastJSONResponse(body, status_code=status, headers={"ETag": f'"{etag}"', **headers})


# ---------------------------------------------------------------- assets: visibility and serialisation


def _visible(asset: Asset, include_shared: bool) -> bool:
    return asset.deleted is None and (include_shared or not asset.shared)


def _get_asset(request: Request, asset_id: str, include_shared: bool | None = None) -> Asset:
    state = _state(request)
    if include_shared is None:
        include_shared = parse_bool(request, "includeShared")
    asset = state.assets.get(asset_id) if ASSET_ID.match(asset_id) else None
    if asset is None or not _visible(asset, include_shared):
        raise _not_found("Asset", asset_id)
    return asset


def _get_own_asset(request: Request, asset_id: str) -> Asset:
    """The asset a write may change: 404 as for reads; 403 for an asset received from another tenant.

    A received asset (sharing mode RECEIVER) is visible with ``includeShared=true`` but read-only; without
    that parameter it does not exist for the caller (reference 6: 404 for shared resources).
    """
    asset = _get_asset(request, asset_id)
    if asset.shared:
        raise SimHTTPError(
            403,
            f"Asset '{asset_id}' is shared with this tenant by tenant '{asset.owner}' and cannot be changed",
            code="mdsp.core.assetmanagement.sharedResourceReadOnly",
            message_parameters=[{"name": "assetId", "value": asset_id}],
        )
    return asset


def _parent_path(state: TenantState, parent_id: str | None) -> list[dict[str, str]]:
    """``hierarchyPath`` of a child of ``parent_id``: the parent's own path plus the parent.

    Memoised per parent until the tenant's version changes (any asset write), so a page of siblings
    costs one walk up the tree, and the entry dicts are shared (responses are encoded, never changed).
    """
    if parent_id is None:
        return []
    cached = state.cache.get("parent_paths")
    if cached is None or cached[0] != state.version:
        cached = (state.version, {})
        state.cache["parent_paths"] = cached
    memo: dict[str, list[dict[str, str]]] = cached[1]
    path = memo.get(parent_id)
    if path is not None:
        return path
    # Walk up to the first ancestor whose path is known (or the root), then fill in downwards.
    chain: list[Asset] = []
    seen: set[str] = set()
    current: str | None = parent_id
    known: list[dict[str, str]] = []
    while current is not None and current not in seen:
        hit = memo.get(current)
        if hit is not None:
            known = hit
            break
        seen.add(current)
        asset = state.assets.get(current)
        if asset is None:
            break
        chain.append(asset)
        current = asset.parentId
    else:
        known = []
    for asset in reversed(chain):
        known = [*known, {"assetId": asset.assetId, "name": asset.name}]
        memo[asset.assetId] = known
    return memo.get(parent_id, known)


def asset_resource(state: TenantState, asset: Asset, base: str) -> dict[str, Any]:
    """The ``AssetResourceWithHierarchyPath`` of reference 2.4.

    Nested values (location, variables, aspects, hierarchy path) are the tenant's own objects, not
    copies: encode the result while holding ``state.lock`` and never change it.
    """
    asset_id = asset.assetId
    self_href = f"{base}/assets/{asset_id}"
    if asset.parentId:
        links: dict[str, Any] = {
            "self": {"href": self_href},
            "parent": {"href": f"{base}/assets/{asset.parentId}"},
        }
    else:
        links = {"self": {"href": self_href}}
    # quote('{"parentId":"<id>"}', safe=""); asset ids are hex, so only the punctuation is escaped.
    links["children"] = {"href": f"{base}/assets?filter=%7B%22parentId%22%3A%22{asset_id}%22%7D"}
    links["variables"] = {"href": f"{self_href}/variables"}
    links["aspects"] = {"href": f"{self_href}/aspects"}
    links["location"] = {"href": f"{self_href}/location"}
    return {
        "assetId": asset_id,
        "tenantId": asset.owner or state.tenant,
        "name": asset.name,
        "etag": asset.etag,
        "externalId": asset.externalId,
        "t2Tenant": None,
        "subTenant": None,
        "description": asset.description,
        "timezone": asset.timezone,
        "twinType": asset.twinType,
        "parentId": asset.parentId,
        "typeId": asset.typeId,
        "location": asset.location,
        "fileAssignments": [],
        "variables": asset.variables,
        "aspects": asset.aspects,
        "locks": [],
        "hierarchyPath": _parent_path(state, asset.parentId),
        "deleted": asset.deleted,
        "sharing": {"modes": asset.sharing_modes()},
        "_links": links,
    }


def _asset_fields(state: TenantState) -> dict[str, Any]:
    chains: dict[str, tuple[str, ...]] = {}

    def has_type(asset: Asset) -> tuple[str, ...]:
        chain = chains.get(asset.typeId)
        if chain is None:
            chain = tuple(t.id for t in type_chain(state, asset.typeId)) or (asset.typeId,)
            chains[asset.typeId] = chain
        return chain

    return {
        "assetId": lambda a: a.assetId,
        "tenantId": lambda a: a.owner or state.tenant,
        "name": lambda a: a.name,
        "externalId": lambda a: a.externalId,
        "t2tenant": lambda a: None,
        "subTenant": lambda a: None,
        "timezone": lambda a: a.timezone,
        "twinType": lambda a: a.twinType,
        "deleted": lambda a: a.deleted,
        "parentId": lambda a: a.parentId,
        "typeId": lambda a: a.typeId,
        "fileId": lambda a: None,
        "hasType": has_type,
    }


def _sorted_all(state: TenantState) -> list[Asset]:
    """All assets sorted by (name, assetId), cached until the tenant's version changes."""
    cached = state.cache.get("assets_by_name")
    if cached is not None and cached[0] == state.version:
        return cached[1]
    ordered = sorted(state.assets.values(), key=lambda a: (a.name, a.assetId))
    state.cache["assets_by_name"] = (state.version, ordered)
    return ordered


def _changed(state: TenantState) -> None:
    state.version += 1


# ---------------------------------------------------------------- billboard


async def billboard(request: Request) -> JSONResponse:
    require_token(request, AM_READ)
    base = _base(request)
    return JSONResponse(
        {
            "_links": {
                "self": {"href": f"{base}/"},
                "aspectTypes": {"href": f"{base}/aspecttypes"},
                "assetTypes": {"href": f"{base}/assettypes"},
                "assets": {"href": f"{base}/assets"},
                "files": {"href": f"{base}/files"},
            }
        }
    )


# ---------------------------------------------------------------- assets


def _list_matches(
    state: TenantState, expr: Any, predicate: Any, include_shared: bool, specs: list[tuple[str, bool]]
) -> list[Asset]:
    show_deleted = mentions_field(expr, "deleted")
    parent_id = top_level_equals(expr, "parentId")
    if parent_id is not None:
        candidates = [state.assets[i] for i in state.children.get(parent_id, ())]
        candidates.sort(key=lambda a: (a.name, a.assetId))
    else:
        candidates = _sorted_all(state)
    matches = [
        a
        for a in candidates
        if (show_deleted or a.deleted is None) and (include_shared or not a.shared) and predicate(a)
    ]
    if specs != [("name", False)]:
        if specs == [("name", True)]:
            matches.reverse()
        else:
            matches = sort_records(matches, specs, lambda a, f: getattr(a, f))
    return matches


async def list_assets(request: Request) -> JSONResponse:
    require_token(request, AM_READ)
    state = _state(request)
    config = request.app.state.config
    include_shared = parse_bool(request, "includeShared")
    page, size = parse_paging(request, config.max_page_size)
    specs = parse_sort(request, ASSET_SORT_FIELDS)
    expr = parse_filter_json(query_value(request, "filter"))
    predicate = compile_filter(expr, _asset_fields(state))
    base = _base(request)
    with state.lock:
        # Paging clients ask for page after page of the same listing: keep the last few result lists
        # (keyed by the query, checked against the tenant's version) instead of filtering every time.
        key = (query_value(request, "filter") or "", include_shared, tuple(specs))
        listings: OrderedDict[Any, tuple[int, list[Asset]]] = state.cache.setdefault(
            "asset_listings", OrderedDict()
        )
        hit = listings.get(key)
        if hit is not None and hit[0] == state.version:
            listings.move_to_end(key)
            matches = hit[1]
        else:
            matches = _list_matches(state, expr, predicate, include_shared, specs)
            listings[key] = (state.version, matches)
            while len(listings) > 16:
                listings.popitem(last=False)
        start = page * size
        items = [asset_resource(state, a, base) for a in matches[start : start + size]]
        # Encoded under the lock: the items share the tenant's nested objects.
        return FastJSONResponse(hal_page(request, "assets", items, len(matches), page, size))


async def root_asset(request: Request) -> Response:
    require_token(request, AM_READ)
    state = _state(request)
    with state.lock:
        asset = state.assets[state.root_id]
        if _not_modified(request, asset.etag):
            return Response(status_code=304, headers={"ETag": f'"{asset.etag}"'})
        return _resource_response(asset_resource(state, asset, _base(request)), asset.etag)


async def get_asset(request: Request) -> Response:
    require_token(request, AM_READ)
    state = _state(request)
    with state.lock:
        asset = _get_asset(request, request.path_params["id"])
        if _not_modified(request, asset.etag):
            return Response(status_code=304, headers={"ETag": f'"{asset.etag}"'})
        return _resource_response(asset_resource(state, asset, _base(request)), asset.etag)


def _declared_variables(state: TenantState, type_id: str) -> dict[str, VariableDef]:
    return {var.name: var for var, _origin in variables_of_type(state, type_id)}


def _static_aspects(state: TenantState, type_id: str) -> dict[str, AspectType]:
    return {
        aspect.name: aspect_type
        for aspect, aspect_type, _origin in aspects_of_type(state, type_id)
        if aspect_type.category == "static"
    }


def _validate_values(values: Any, declared: dict[str, VariableDef], where: str) -> list[dict[str, Any]]:
    if not isinstance(values, list):
        raise _bad(f"'{where}' must be a list of {{name, value}}")
    result: list[dict[str, Any]] = []
    for item in values:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise _bad(f"Every entry of '{where}' needs a 'name'")
        if item["name"] not in declared:
            raise _bad(f"Variable '{item['name']}' is not defined by the type ({where})")
        value = item.get("value")
        if value is not None and not isinstance(value, str | int | float | bool):
            raise _bad(f"Variable '{item['name']}' needs a plain value")
        result.append({"name": item["name"], "value": None if value is None else str(value)})
    return result


def _merge_by_name(current: list[dict[str, Any]], updates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged = {item["name"]: dict(item) for item in current}
    for item in updates:
        merged[item["name"]] = {**merged.get(item["name"], {}), **item}
    return list(merged.values())


def _validate_aspects(state: TenantState, type_id: str, values: Any, current: list[dict[str, Any]] | None):
    if not isinstance(values, list):
        raise _bad("'aspects' must be a list of {name, variables}")
    statics = _static_aspects(state, type_id)
    result = {item["name"]: copy.deepcopy(item) for item in (current or [])}
    for item in values:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise _bad("Every entry of 'aspects' needs a 'name'")
        aspect_type = statics.get(item["name"])
        if aspect_type is None:
            raise _bad(f"'{item['name']}' is not a static aspect of type '{type_id}'")
        declared = {v.name: v for v in aspect_type.variables}
        new_vars = _validate_values(item.get("variables", []), declared, f"aspects.{item['name']}.variables")
        existing = result.get(item["name"], {"name": item["name"], "variables": []})
        existing["variables"] = _merge_by_name(existing.get("variables", []), new_vars)
        result[item["name"]] = existing
    return list(result.values())


def _validate_location(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _bad("'location' must be an object")
    allowed = ("country", "region", "locality", "streetAddress", "postalCode", "longitude", "latitude")
    unknown = [k for k in value if k not in allowed]
    if unknown:
        raise _bad(f"Unknown location field(s): {', '.join(unknown)}")
    for coord, limit in (("longitude", 180), ("latitude", 90)):
        if value.get(coord) is not None:
            if not isinstance(value[coord], int | float) or abs(value[coord]) > limit:
                raise _bad(f"'{coord}' must be a number between -{limit} and {limit}")
    return dict(value)


def _optional_str(body: dict[str, Any], name: str, max_len: int = 255) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise _bad(f"'{name}' must be a string of at most {max_len} characters")
    return value


def _required_name(body: dict[str, Any]) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 128:
        raise _bad("'name' is required: a non-empty string of at most 128 characters")
    return name


async def create_asset(request: Request) -> JSONResponse:
    require_token(request, AM_WRITE)
    body = await _json_body(request)
    state = _state(request)
    name = _required_name(body)
    type_id = body.get("typeId")
    parent_id = body.get("parentId")
    if not isinstance(type_id, str) or not type_id:
        raise _bad("'typeId' is required")
    if not isinstance(parent_id, str) or not parent_id:
        raise _bad("'parentId' is required")
    twin = body.get("twinType") or "performance"
    if twin not in TWIN_TYPES:
        raise _bad("'twinType' must be performance or simulation")
    with state.lock:
        asset_type = state.asset_types.get(type_id)
        if asset_type is None:
            raise _bad(
                f"Asset type '{type_id}' does not exist", code="mdsp.core.assetmanagement.typeNotFound"
            )
        if asset_type.shared:
            raise _bad(
                f"Asset type '{type_id}' belongs to tenant '{_type_tenant(type_id)}' and cannot be used here",
                code="mdsp.core.assetmanagement.typeNotInstantiable",
            )
        if not asset_type.instantiable:
            raise _bad(
                f"Asset type '{type_id}' is not instantiable",
                code="mdsp.core.assetmanagement.typeNotInstantiable",
            )
        parent = state.assets.get(parent_id)
        if parent is None or not _visible(parent, False):
            raise _bad(
                f"Parent asset '{parent_id}' does not exist", code="mdsp.core.assetmanagement.parentNotFound"
            )
        declared = _declared_variables(state, type_id)
        defaults = [
            {"name": n, "value": v.defaultValue} for n, v in declared.items() if v.defaultValue is not None
        ]
        variables = _merge_by_name(
            defaults, _validate_values(body.get("variables", []), declared, "variables")
        )
        static_defaults = [
            {
                "name": aspect_name,
                "variables": [
                    {"name": v.name, "value": v.defaultValue} for v in at.variables if v.defaultValue
                ],
            }
            for aspect_name, at in _static_aspects(state, type_id).items()
            if any(v.defaultValue for v in at.variables)
        ]
        aspects = _validate_aspects(state, type_id, body.get("aspects", []), static_defaults)
        timezone = body.get("timezone") or parent.timezone or "Europe/Berlin"
        if not isinstance(timezone, str):
            raise _bad("'timezone' must be a Java zone id")
        asset_id = _new_asset_id(state, request)
        asset = Asset(
            assetId=asset_id,
            name=name,
            typeId=type_id,
            parentId=parent_id,
            description=_optional_str(body, "description", 2048) or "",
            externalId=_optional_str(body, "externalId"),
            timezone=timezone,
            twinType=twin,
            location=_validate_location(body.get("location")),
            variables=variables,
            aspects=aspects,
            createdAt=request.app.state.config.clock(),
        )
        state.assets[asset_id] = asset
        state.children.setdefault(parent_id, []).append(asset_id)
        _changed(state)
        resource = asset_resource(state, asset, _base(request))
        return _resource_response(
            resource, asset.etag, status=201, Location=resource["_links"]["self"]["href"]
        )


def _new_asset_id(state: TenantState, request: Request) -> str:
    counter = state.counters.get("assets_created", 0)
    while True:
        counter += 1
        seed = f"{request.app.state.config.seed}:created:{counter}:{time.monotonic_ns()}"
        asset_id = hashlib.blake2b(seed.encode(), digest_size=16).hexdigest()
        if asset_id not in state.assets:
            state.counters["assets_created"] = counter
            return asset_id


async def replace_asset(request: Request) -> JSONResponse:
    require_token(request, AM_WRITE)
    body = await _json_body(request)
    state = _state(request)
    with state.lock:
        asset = _get_own_asset(request, request.path_params["id"])
        _check_if_match(request, asset.etag, "asset")
        _check_structure_unchanged(asset, body)
        name = _required_name(body)
        declared = _declared_variables(state, asset.typeId)
        variables = _validate_values(body.get("variables", []), declared, "variables")
        aspects = _validate_aspects(state, asset.typeId, body.get("aspects", []), None)
        location = _validate_location(body.get("location"))
        asset.name = name
        asset.externalId = _optional_str(body, "externalId")
        asset.description = _optional_str(body, "description", 2048) or ""
        asset.location = location
        asset.variables = variables
        asset.aspects = aspects
        asset.etag += 1
        _changed(state)
        return _resource_response(asset_resource(state, asset, _base(request)), asset.etag)


def _check_structure_unchanged(asset: Asset, body: dict[str, Any]) -> None:
    for field, current in (
        ("typeId", asset.typeId),
        ("parentId", asset.parentId),
        ("timezone", asset.timezone),
    ):
        if field in body and body[field] is not None and body[field] != current:
            hint = " (use POST /assets/{id}/move)" if field == "parentId" else ""
            raise _bad(f"'{field}' cannot be changed here{hint}")


async def patch_asset(request: Request) -> JSONResponse:
    require_token(request, AM_WRITE)
    body = await _json_body(request)
    state = _state(request)
    with state.lock:
        asset = _get_own_asset(request, request.path_params["id"])
        _check_if_match(request, asset.etag, "asset")
        _check_structure_unchanged(asset, body)
        if "name" in body:
            name = _required_name(body)
        else:
            name = asset.name
        declared = _declared_variables(state, asset.typeId)
        variables = asset.variables
        if body.get("variables") is not None:
            variables = _merge_by_name(
                asset.variables, _validate_values(body["variables"], declared, "variables")
            )
        aspects = asset.aspects
        if body.get("aspects") is not None:
            aspects = _validate_aspects(state, asset.typeId, body["aspects"], asset.aspects)
        location = asset.location
        if "location" in body:
            if body["location"] is None:
                location = None
            else:
                location = _validate_location({**(asset.location or {}), **body["location"]})
                location = {k: v for k, v in (location or {}).items() if v is not None}
        external_id = _optional_str(body, "externalId") if "externalId" in body else asset.externalId
        description = (
            (_optional_str(body, "description", 2048) or "") if "description" in body else asset.description
        )
        asset.name, asset.variables, asset.aspects, asset.location = name, variables, aspects, location
        asset.externalId, asset.description = external_id, description
        asset.etag += 1
        _changed(state)
        return _resource_response(asset_resource(state, asset, _base(request)), asset.etag)


def _live_children(state: TenantState, asset_id: str) -> list[str]:
    return [c for c in state.children.get(asset_id, ()) if state.assets[c].deleted is None]


async def delete_asset(request: Request) -> Response:
    require_token(request, AM_WRITE)
    state = _state(request)
    with state.lock:
        asset = _get_own_asset(request, request.path_params["id"])
        _check_if_match(request, asset.etag, "asset")
        if asset.assetId == state.root_id:
            raise _bad("The root asset cannot be deleted", code="mdsp.core.assetmanagement.rootAsset")
        if _live_children(state, asset.assetId):
            raise SimHTTPError(
                409,
                f"Asset '{asset.assetId}' has children: delete or move them first",
                code="mdsp.core.assetmanagement.assetHasChildren",
                message_parameters=[{"name": "assetId", "value": asset.assetId}],
            )
        asset.deleted = _now_iso(request)
        asset.etag += 1
        _changed(state)
    return Response(status_code=204)


async def move_asset(request: Request) -> JSONResponse:
    require_token(request, AM_WRITE)
    body = await _json_body(request)
    state = _state(request)
    new_parent_id = body.get("newParentId")
    if not isinstance(new_parent_id, str) or not new_parent_id:
        raise _bad("'newParentId' is required")
    with state.lock:
        asset = _get_own_asset(request, request.path_params["id"])
        _check_if_match(request, asset.etag, "asset")
        if asset.assetId == state.root_id:
            raise _bad("The root asset cannot be moved", code="mdsp.core.assetmanagement.rootAsset")
        new_parent = state.assets.get(new_parent_id)
        if new_parent is None or not _visible(new_parent, False):
            raise _bad(
                f"New parent '{new_parent_id}' does not exist",
                code="mdsp.core.assetmanagement.parentNotFound",
            )
        # The new parent must not be the asset itself or one of its descendants.
        current: str | None = new_parent_id
        while current is not None:
            if current == asset.assetId:
                raise _bad(
                    "An asset cannot be moved below itself", code="mdsp.core.assetmanagement.cyclicMove"
                )
            current = state.assets[current].parentId
        if asset.parentId != new_parent_id:
            if asset.parentId is not None:
                siblings = state.children.get(asset.parentId, [])
                if asset.assetId in siblings:
                    siblings.remove(asset.assetId)
            state.children.setdefault(new_parent_id, []).append(asset.assetId)
            asset.parentId = new_parent_id
        asset.etag += 1
        _changed(state)
        return _resource_response(asset_resource(state, asset, _base(request)), asset.etag)


async def put_location(request: Request) -> Response:
    require_token(request, AM_WRITE)
    body = await _json_body(request)
    state = _state(request)
    with state.lock:
        asset = _get_own_asset(request, request.path_params["id"])
        _check_if_match(request, asset.etag, "asset")
        asset.location = _validate_location(body)
        asset.etag += 1
        _changed(state)
    return Response(status_code=204, headers={"ETag": f'"{asset.etag}"'})


async def delete_location(request: Request) -> Response:
    require_token(request, AM_WRITE)
    state = _state(request)
    with state.lock:
        asset = _get_own_asset(request, request.path_params["id"])
        _check_if_match(request, asset.etag, "asset")
        asset.location = None
        asset.etag += 1
        _changed(state)
    return Response(status_code=204, headers={"ETag": f'"{asset.etag}"'})


def _variable_json(var: VariableDef, *, with_qc: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": var.name,
        "dataType": var.dataType,
        "unit": var.unit,
        "searchable": var.searchable,
        "length": var.length,
        "defaultValue": var.defaultValue,
    }
    if with_qc:
        body["qualityCode"] = var.qualityCode
    return body


async def asset_aspects(request: Request) -> JSONResponse:
    require_token(request, AM_READ)
    state = _state(request)
    page, size = parse_paging(request, request.app.state.config.max_page_size)
    expr = parse_filter_json(query_value(request, "filter"))
    predicate = compile_filter(
        expr,
        {"name": lambda r: r[0].name, "category": lambda r: r[1].category, "aspectTypeId": lambda r: r[1].id},
    )
    base = _base(request)
    with state.lock:
        asset = _get_asset(request, request.path_params["id"])
        rows = [r for r in aspects_of_type(state, asset.typeId) if predicate(r)]
        items = [
            {
                "aspectTypeId": aspect_type.id,
                "holderAssetId": asset.assetId,
                "name": aspect.name,
                "category": aspect_type.category,
                "description": aspect_type.description,
                "variables": [_variable_json(v) for v in aspect_type.variables],
                "_links": {
                    "self": {"href": f"{base}/assets/{asset.assetId}/aspects/{aspect.name}"},
                    "asset": {"href": f"{base}/assets/{asset.assetId}"},
                    "aspectType": {"href": f"{base}/aspecttypes/{aspect_type.id}"},
                },
            }
            for aspect, aspect_type, _origin in rows[page * size : page * size + size]
        ]
    return FastJSONResponse(hal_page(request, "aspects", items, len(rows), page, size))


async def asset_variables(request: Request) -> JSONResponse:
    """Asset-type variables by their name, then aspect variables qualified as ``<aspect>.<variable>``."""
    require_token(request, AM_READ)
    state = _state(request)
    page, size = parse_paging(request, request.app.state.config.max_page_size)
    with state.lock:
        asset = _get_asset(request, request.path_params["id"])
        rows: list[dict[str, Any]] = [
            _variable_json(var, with_qc=False) for var, _origin in variables_of_type(state, asset.typeId)
        ]
        for aspect, aspect_type, _origin in aspects_of_type(state, asset.typeId):
            for var in aspect_type.variables:
                row = _variable_json(var, with_qc=False)
                row["name"] = f"{aspect.name}.{var.name}"
                rows.append(row)
        items = rows[page * size : page * size + size]
    return FastJSONResponse(hal_page(request, "variables", items, len(rows), page, size))


# ---------------------------------------------------------------- aspect types


def _type_tenant(type_id: str) -> str:
    return type_id.split(".", 1)[0]


def aspect_type_resource(aspect_type: AspectType, base: str) -> dict[str, Any]:
    return {
        "id": aspect_type.id,
        "tenantId": _type_tenant(aspect_type.id),
        "name": aspect_type.name,
        "category": aspect_type.category,
        "scope": aspect_type.scope,
        "description": aspect_type.description,
        "variables": [_variable_json(v) for v in aspect_type.variables],
        "etag": aspect_type.etag,
        "sharing": {"modes": ["RECEIVER"] if aspect_type.shared else []},
        "_links": {"self": {"href": f"{base}/aspecttypes/{aspect_type.id}"}},
    }


def _type_fields() -> dict[str, Any]:
    return {
        "id": lambda t: t.id,
        "name": lambda t: t.name,
        "tenantId": lambda t: _type_tenant(t.id),
        "scope": lambda t: t.scope,
        "description": lambda t: t.description,
        "category": lambda t: getattr(t, "category", None),
        "parentTypeId": lambda t: getattr(t, "parentTypeId", None),
        "instantiable": lambda t: getattr(t, "instantiable", None),
    }


def _list_types(request: Request, records: list[Any], key: str, render: Any) -> JSONResponse:
    page, size = parse_paging(request, request.app.state.config.max_page_size)
    specs = parse_sort(request, TYPE_SORT_FIELDS)
    predicate = compile_filter(parse_filter_json(query_value(request, "filter")), _type_fields())
    matches = sort_records([r for r in records if predicate(r)], specs, lambda r, f: getattr(r, f, None))
    items = [render(r) for r in matches[page * size : page * size + size]]
    return FastJSONResponse(hal_page(request, key, items, len(matches), page, size))


def _visible_types(request: Request, types: Any) -> list[Any]:
    """Types received from other tenants are visible only with ``includeShared=true``."""
    include_shared = parse_bool(request, "includeShared")
    return [t for t in types if include_shared or not t.shared]


def _get_type(request: Request, types: dict[str, Any], kind: str) -> Any:
    type_ = types.get(request.path_params["id"])
    if type_ is None or (type_.shared and not parse_bool(request, "includeShared")):
        raise _not_found(kind, request.path_params["id"])
    return type_


async def list_aspect_types(request: Request) -> JSONResponse:
    require_token(request, AM_READ)
    state = _state(request)
    base = _base(request)
    with state.lock:
        return _list_types(
            request,
            _visible_types(request, state.aspect_types.values()),
            "aspectTypes",
            lambda t: aspect_type_resource(t, base),
        )


async def get_aspect_type(request: Request) -> Response:
    require_token(request, AM_READ)
    state = _state(request)
    with state.lock:
        aspect_type = _get_type(request, state.aspect_types, "Aspect type")
        if _not_modified(request, aspect_type.etag):
            return Response(status_code=304, headers={"ETag": f'"{aspect_type.etag}"'})
        return _resource_response(aspect_type_resource(aspect_type, _base(request)), aspect_type.etag)


def _check_type_id(state: TenantState, type_id: str) -> None:
    prefix = state.tenant
    if not re.match(rf"^{re.escape(prefix)}\.[A-Za-z0-9_.]+$", type_id) or len(type_id) > 128:
        raise _bad(
            f"Invalid type id '{type_id}': it must look like '{prefix}.Name' (letters, digits, '_' and '.')",
            code="mdsp.core.assetmanagement.invalidTypeId",
        )


def _parse_variables(raw: Any, *, category: str) -> list[VariableDef]:
    """Validate a list of variable definitions for an aspect type (category) or asset type ("static")."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _bad("'variables' must be a list")
    result: list[VariableDef] = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, dict):
            raise _bad("Every variable must be an object")
        name = item.get("name")
        if not isinstance(name, str) or not NAME_PATTERN.match(name) or len(name) > 64:
            raise _bad(f"Invalid variable name {name!r}")
        if name in RESERVED_NAMES:
            raise _bad(f"'{name}' is a reserved name")
        if name in seen:
            raise _bad(f"Variable '{name}' is defined twice")
        seen.add(name)
        data_type = item.get("dataType")
        if data_type not in DATA_TYPES:
            raise _bad(f"Variable '{name}': dataType must be one of {', '.join(DATA_TYPES)}")
        if data_type == "BIG_STRING" and category != "dynamic":
            raise _bad(f"Variable '{name}': BIG_STRING is only allowed in dynamic aspects")
        length = item.get("length")
        if length is not None:
            limit = {"STRING": 255, "BIG_STRING": 100000}.get(data_type)
            if limit is None:
                raise _bad(f"Variable '{name}': 'length' applies to string types only")
            if not isinstance(length, int) or not 1 <= length <= limit:
                raise _bad(f"Variable '{name}': 'length' must be between 1 and {limit}")
        default = item.get("defaultValue")
        if default is not None:
            if category == "dynamic":
                raise _bad(f"Variable '{name}': defaultValue is only allowed in static aspects")
            default = str(default)
        searchable = bool(item.get("searchable", False))
        if searchable and category == "dynamic":
            raise _bad(f"Variable '{name}': searchable is only allowed for static properties")
        unit = item.get("unit") or ""
        if not isinstance(unit, str):
            raise _bad(f"Variable '{name}': 'unit' must be a string")
        result.append(
            VariableDef(
                name=name,
                dataType=data_type,
                unit=unit,
                searchable=searchable,
                length=length,
                defaultValue=default,
                qualityCode=bool(item.get("qualityCode", False)),
            )
        )
    return result


def _check_variables_kept(old: list[VariableDef], new: list[VariableDef], *, static: bool) -> None:
    """Variables may only be added: every existing one must be repeated with the same definition."""
    by_name = {v.name: v for v in new}
    for var in old:
        repl = by_name.get(var.name)
        if repl is None:
            raise _bad(
                f"Variable '{var.name}' cannot be removed or renamed",
                code="mdsp.core.assetmanagement.variableRemoved",
            )
        for attr in ("dataType", "qualityCode", "searchable", "unit"):
            if getattr(repl, attr) != getattr(var, attr):
                raise _bad(f"Variable '{var.name}': '{attr}' cannot change")
        if var.length != repl.length:
            may_grow = static and var.dataType == "STRING" and (repl.length or 0) > (var.length or 0)
            if not may_grow:
                raise _bad(f"Variable '{var.name}': 'length' cannot change (a static STRING may only grow)")


def _check_put_preconditions(request: Request, existing_etag: int | None, what: str) -> None:
    if existing_etag is None:
        if _etag_header(request, "if-match") not in (None, "", "*"):
            raise SimHTTPError(
                412, f"The {what} does not exist", code="mdsp.core.assetmanagement.etagMismatch"
            )
        return
    if _etag_header(request, "if-none-match") == "*":
        raise SimHTTPError(
            412,
            f"The {what} already exists (If-None-Match: *)",
            code="mdsp.core.assetmanagement.alreadyExists",
        )
    _check_if_match(request, existing_etag, what)


def _aspect_type_from_body(type_id: str, body: dict[str, Any], existing: AspectType | None) -> AspectType:
    name = _required_name(body)
    category = body.get("category")
    if category not in ("static", "dynamic"):
        raise _bad("'category' must be static or dynamic")
    scope = body.get("scope") or "private"
    if scope not in ("private", "public"):
        raise _bad("'scope' must be private or public")
    variables = _parse_variables(body.get("variables"), category=category)
    if existing is None:
        if scope != "private":
            raise _bad("Only private aspect types can be created")
        return AspectType(type_id, name, category, variables, _optional_str(body, "description", 2048) or "")
    if category != existing.category:
        raise _bad("'category' cannot change")
    if scope != existing.scope:
        raise _bad("'scope' cannot change")
    _check_variables_kept(existing.variables, variables, static=category == "static")
    return AspectType(
        type_id,
        name,
        category,
        variables,
        _optional_str(body, "description", 2048) or "",
        scope=existing.scope,
        etag=existing.etag + 1,
        sample_period_s=existing.sample_period_s,
    )


async def put_aspect_type(request: Request) -> JSONResponse:
    require_token(request, AM_WRITE)
    body = await _json_body(request)
    state = _state(request)
    type_id = request.path_params["id"]
    with state.lock:
        existing = state.aspect_types.get(type_id)
        _check_put_preconditions(request, existing.etag if existing else None, "aspect type")
        if existing is None:
            _check_type_id(state, type_id)
        else:
            _check_own_type(state, existing, "changed")
        aspect_type = _aspect_type_from_body(type_id, body, existing)
        state.aspect_types[type_id] = aspect_type
        return _resource_response(
            aspect_type_resource(aspect_type, _base(request)),
            aspect_type.etag,
            status=201 if existing is None else 200,
        )


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result


async def patch_aspect_type(request: Request) -> JSONResponse:
    require_token(request, AM_WRITE)
    body = await _json_body(request)
    state = _state(request)
    type_id = request.path_params["id"]
    with state.lock:
        existing = state.aspect_types.get(type_id)
        if existing is None:
            raise _not_found("Aspect type", type_id)
        _check_if_match(request, existing.etag, "aspect type")
        _check_own_type(state, existing, "changed")
        merged = _merge_patch(aspect_type_resource(existing, ""), body)
        aspect_type = _aspect_type_from_body(type_id, merged, existing)
        state.aspect_types[type_id] = aspect_type
        return _resource_response(aspect_type_resource(aspect_type, _base(request)), aspect_type.etag)


async def delete_aspect_type(request: Request) -> Response:
    require_token(request, AM_WRITE)
    state = _state(request)
    type_id = request.path_params["id"]
    with state.lock:
        existing = state.aspect_types.get(type_id)
        if existing is None:
            raise _not_found("Aspect type", type_id)
        _check_if_match(request, existing.etag, "aspect type")
        _check_own_type(state, existing, "deleted")
        users = sorted(
            t.id for t in state.asset_types.values() if any(a.aspectTypeId == type_id for a in t.aspects)
        )
        if users:
            raise SimHTTPError(
                409,
                f"Aspect type '{type_id}' is used by asset type(s) {', '.join(users)}",
                code="mdsp.core.assetmanagement.aspectTypeInUse",
            )
        del state.aspect_types[type_id]
    return Response(status_code=204)


# ---------------------------------------------------------------- asset types


def asset_type_resource(
    state: TenantState, asset_type: AssetType, base: str, exploded: bool
) -> dict[str, Any]:
    if exploded:
        aspect_rows = aspects_of_type(state, asset_type.id)
        variable_rows = variables_of_type(state, asset_type.id)
    else:
        aspect_rows = [
            (a, state.aspect_types[a.aspectTypeId], asset_type.id)
            for a in asset_type.aspects
            if a.aspectTypeId in state.aspect_types
        ]
        variable_rows = [(v, asset_type.id) for v in asset_type.variables]
    aspects = []
    for aspect, aspect_type, origin in aspect_rows:
        item: dict[str, Any] = {"name": aspect.name, "aspectType": aspect_type_resource(aspect_type, base)}
        if origin != asset_type.id:
            item["_links"] = {"origin": {"href": f"{base}/assettypes/{origin}"}}
        aspects.append(item)
    variables = []
    for var, origin in variable_rows:
        row = _variable_json(var, with_qc=False)
        if origin != asset_type.id:
            row["_links"] = {"origin": {"href": f"{base}/assettypes/{origin}"}}
        variables.append(row)
    links: dict[str, Any] = {"self": {"href": f"{base}/assettypes/{asset_type.id}"}}
    if asset_type.parentTypeId:
        links["parent"] = {"href": f"{base}/assettypes/{asset_type.parentTypeId}"}
    return {
        "id": asset_type.id,
        "tenantId": _type_tenant(asset_type.id),
        "name": asset_type.name,
        "description": asset_type.description,
        "parentTypeId": asset_type.parentTypeId,
        "instantiable": asset_type.instantiable,
        "scope": asset_type.scope,
        "etag": asset_type.etag,
        "aspects": aspects,
        "variables": variables,
        "fileAssignments": [],
        "sharing": {"modes": ["RECEIVER"] if asset_type.shared else []},
        "_links": links,
    }


async def list_asset_types(request: Request) -> JSONResponse:
    require_token(request, AM_READ)
    state = _state(request)
    exploded = parse_bool(request, "exploded")
    base = _base(request)
    with state.lock:
        return _list_types(
            request,
            _visible_types(request, state.asset_types.values()),
            "assetTypes",
            lambda t: asset_type_resource(state, t, base, exploded),
        )


async def get_asset_type(request: Request) -> Response:
    require_token(request, AM_READ)
    state = _state(request)
    exploded = parse_bool(request, "exploded")
    with state.lock:
        asset_type = _get_type(request, state.asset_types, "Asset type")
        if _not_modified(request, asset_type.etag):
            return Response(status_code=304, headers={"ETag": f'"{asset_type.etag}"'})
        return _resource_response(
            asset_type_resource(state, asset_type, _base(request), exploded), asset_type.etag
        )


def _asset_type_from_body(
    state: TenantState, type_id: str, body: dict[str, Any], existing: AssetType | None
) -> AssetType:
    name = _required_name(body)
    parent_type_id = body.get("parentTypeId")
    if not isinstance(parent_type_id, str) or parent_type_id not in state.asset_types:
        raise _bad(f"'parentTypeId' must name an existing asset type (got {parent_type_id!r})")
    if type_id in (t.id for t in type_chain(state, parent_type_id)):
        raise _bad("An asset type cannot derive from itself")
    instantiable = body.get("instantiable", True)
    if not isinstance(instantiable, bool):
        raise _bad("'instantiable' must be true or false")
    scope = body.get("scope") or "private"
    raw_aspects = body.get("aspects") or []
    if not isinstance(raw_aspects, list):
        raise _bad("'aspects' must be a list")
    inherited = {a.name for a, _t, _o in aspects_of_type(state, parent_type_id)}
    aspects: list[AssetTypeAspect] = []
    for item in raw_aspects:
        if not isinstance(item, dict):
            raise _bad("Every aspect must be an object")
        aspect_name = item.get("name")
        aspect_type_id = item.get("aspectTypeId") or (item.get("aspectType") or {}).get("id")
        if not isinstance(aspect_name, str) or not NAME_PATTERN.match(aspect_name):
            raise _bad(f"Invalid aspect name {aspect_name!r}")
        if aspect_name in RESERVED_NAMES:
            raise _bad(f"'{aspect_name}' is a reserved name")
        if aspect_name in inherited or any(a.name == aspect_name for a in aspects):
            raise _bad(f"Aspect name '{aspect_name}' is already used")
        if aspect_type_id not in state.aspect_types:
            raise _bad(f"Aspect type '{aspect_type_id}' does not exist")
        aspects.append(AssetTypeAspect(aspect_name, aspect_type_id))
    variables = _parse_variables(body.get("variables"), category="static")
    if existing is None:
        if scope != "private":
            raise _bad("Only private asset types can be created")
        return AssetType(
            type_id, name, parent_type_id, instantiable, _optional_str(body, "description", 2048) or "",
            aspects, variables,
        )  # fmt: skip
    if parent_type_id != existing.parentTypeId:
        raise _bad("'parentTypeId' cannot change")
    if existing.instantiable and not instantiable:
        raise _bad("'instantiable' can change from false to true only")
    new_aspects = {(a.name, a.aspectTypeId) for a in aspects}
    for aspect in existing.aspects:
        if (aspect.name, aspect.aspectTypeId) not in new_aspects:
            raise _bad(f"Aspect '{aspect.name}' cannot be removed or changed")
    _check_variables_kept(existing.variables, variables, static=True)
    return AssetType(
        type_id, name, parent_type_id, instantiable, _optional_str(body, "description", 2048) or "",
        aspects, variables, scope=existing.scope, etag=existing.etag + 1,
    )  # fmt: skip


def _asset_type_body(asset_type: AssetType) -> dict[str, Any]:
    return {
        "name": asset_type.name,
        "description": asset_type.description,
        "parentTypeId": asset_type.parentTypeId,
        "instantiable": asset_type.instantiable,
        "scope": asset_type.scope,
        "aspects": [{"name": a.name, "aspectTypeId": a.aspectTypeId} for a in asset_type.aspects],
        "variables": [_variable_json(v) for v in asset_type.variables],
    }


def _check_own_type(state: TenantState, type_: AssetType | AspectType, verb: str) -> None:
    """Only the tenant's own private types may change (403 for public, core or other tenants' types),
    and only while the asset model is unlocked (409)."""
    kind = "Asset type" if isinstance(type_, AssetType) else "Aspect type"
    if type_.scope == "public" or not type_.id.startswith(state.tenant + "."):
        raise SimHTTPError(403, f"{kind} '{type_.id}' belongs to another tenant and cannot be {verb}")
    if state.model_locked:
        raise SimHTTPError(
            409,
            f"{kind} '{type_.id}' cannot be {verb}: the asset model is locked "
            "(PUT /model/lock?enabled=false unlocks it)",
            code="mdsp.core.assetmanagement.modelLocked",
        )


async def put_asset_type(request: Request) -> JSONResponse:
    require_token(request, AM_WRITE)
    body = await _json_body(request)
    state = _state(request)
    type_id = request.path_params["id"]
    with state.lock:
        existing = state.asset_types.get(type_id)
        _check_put_preconditions(request, existing.etag if existing else None, "asset type")
        if existing is None:
            _check_type_id(state, type_id)
        else:
            _check_own_type(state, existing, "changed")
        asset_type = _asset_type_from_body(state, type_id, body, existing)
        state.asset_types[type_id] = asset_type
        return _resource_response(
            asset_type_resource(state, asset_type, _base(request), False),
            asset_type.etag,
            status=201 if existing is None else 200,
        )


async def patch_asset_type(request: Request) -> JSONResponse:
    require_token(request, AM_WRITE)
    body = await _json_body(request)
    state = _state(request)
    type_id = request.path_params["id"]
    with state.lock:
        existing = state.asset_types.get(type_id)
        if existing is None:
            raise _not_found("Asset type", type_id)
        _check_if_match(request, existing.etag, "asset type")
        _check_own_type(state, existing, "changed")
        merged = _merge_patch(_asset_type_body(existing), body)
        asset_type = _asset_type_from_body(state, type_id, merged, existing)
        state.asset_types[type_id] = asset_type
        return _resource_response(
            asset_type_resource(state, asset_type, _base(request), False), asset_type.etag
        )


async def delete_asset_type(request: Request) -> Response:
    require_token(request, AM_WRITE)
    state = _state(request)
    type_id = request.path_params["id"]
    with state.lock:
        existing = state.asset_types.get(type_id)
        if existing is None:
            raise _not_found("Asset type", type_id)
        _check_if_match(request, existing.etag, "asset type")
        _check_own_type(state, existing, "deleted")
        if any(t.parentTypeId == type_id for t in state.asset_types.values()):
            raise SimHTTPError(
                409,
                f"Asset type '{type_id}' has derived types",
                code="mdsp.core.assetmanagement.typeHasChildren",
            )
        if any(a.typeId == type_id and a.deleted is None for a in state.assets.values()):
            raise SimHTTPError(
                409, f"Asset type '{type_id}' has assets", code="mdsp.core.assetmanagement.typeHasInstances"
            )
        del state.asset_types[type_id]
    return Response(status_code=204)


# ---------------------------------------------------------------- model lock


async def get_model_lock(request: Request) -> JSONResponse:
    require_token(request, AM_READ)
    state = _state(request)
    with state.lock:
        return JSONResponse({"enabled": state.model_locked})


async def put_model_lock(request: Request) -> JSONResponse:
    """``PUT /model/lock?enabled=true|false``: set the lock; answers the new state (``AssetModelLock``)."""
    require_token(request, AM_WRITE)
    value = (query_value(request, "enabled") or "").lower()
    if value not in ("true", "false"):
        raise _bad("Parameter 'enabled' must be true or false")
    state = _state(request)
    with state.lock:
        state.model_locked = value == "true"
        return JSONResponse({"enabled": state.model_locked})


def routes() -> list[Route]:
    p = PREFIX
    return [
        Route(f"{p}/", billboard, methods=["GET"]),
        Route(p, billboard, methods=["GET"]),
        Route(f"{p}/assets", list_assets, methods=["GET"]),
        Route(f"{p}/assets", create_asset, methods=["POST"]),
        Route(f"{p}/assets/root", root_asset, methods=["GET"]),
        Route(f"{p}/assets/{{id}}", get_asset, methods=["GET"]),
        Route(f"{p}/assets/{{id}}", replace_asset, methods=["PUT"]),
        Route(f"{p}/assets/{{id}}", patch_asset, methods=["PATCH"]),
        Route(f"{p}/assets/{{id}}", delete_asset, methods=["DELETE"]),
        Route(f"{p}/assets/{{id}}", move_asset, methods=["POST"]),
        Route(f"{p}/assets/{{id}}/move", move_asset, methods=["POST"]),
        Route(f"{p}/assets/{{id}}/aspects", asset_aspects, methods=["GET"]),
        Route(f"{p}/assets/{{id}}/variables", asset_variables, methods=["GET"]),
        Route(f"{p}/assets/{{id}}/location", put_location, methods=["PUT"]),
        Route(f"{p}/assets/{{id}}/location", delete_location, methods=["DELETE"]),
        Route(f"{p}/aspecttypes", list_aspect_types, methods=["GET"]),
        Route(f"{p}/aspecttypes/{{id}}", get_aspect_type, methods=["GET"]),
        Route(f"{p}/aspecttypes/{{id}}", put_aspect_type, methods=["PUT"]),
        Route(f"{p}/aspecttypes/{{id}}", patch_aspect_type, methods=["PATCH"]),
        Route(f"{p}/aspecttypes/{{id}}", delete_aspect_type, methods=["DELETE"]),
        Route(f"{p}/assettypes", list_asset_types, methods=["GET"]),
        Route(f"{p}/assettypes/{{id}}", get_asset_type, methods=["GET"]),
        Route(f"{p}/assettypes/{{id}}", put_asset_type, methods=["PUT"]),
        Route(f"{p}/assettypes/{{id}}", patch_asset_type, methods=["PATCH"]),
        Route(f"{p}/assettypes/{{id}}", delete_asset_type, methods=["DELETE"]),
        Route(f"{p}/model/lock", get_model_lock, methods=["GET"]),
        Route(f"{p}/model/lock", put_model_lock, methods=["PUT"]),
    ]
