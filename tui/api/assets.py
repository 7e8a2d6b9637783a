"""Asset Management v3 (reference section 2): assets, asset types, aspect types, paging and etags."""

from __future__ import annotations

import builtins
import json
from collections.abc import AsyncIterator, Callable, Iterable
from operator import attrgetter
from typing import Any, TypeVar

import httpx
from msgspec.structs import force_setattr

from tui.api import contract as C
from tui.api.client import ApiClient, HalPageDecoder
from tui.api.decode import decode
from tui.api.errors import ResponseFormatError
from tui.api.models import (
    Aspect,
    AspectType,
    Asset,
    AssetRecord,
    AssetType,
    Etag,
    HierarchyEntry,
    VariableDefinition,
    etag_header,
)

T = TypeVar("T")


def build_filter(*args: dict[str, Any] | None, **fields: Any) -> str | None:
    """A JSON-encoded AM filter (reference 2.3).

    ``build_filter(parentId=x)`` -> ``{"parentId":"x"}``; several dicts or fields are combined with an
    explicit ``and``. Values are used as given, so operators work: ``name={"contains": "Pump"}``.
    Returns None when there is nothing to filter on.
    """
    parts: list[dict[str, Any]] = [a for a in args if a]
    if fields:
        parts.append(dict(fields))
    if not parts:
        return None
    if len(parts) == 1:
        return json.dumps(parts[0], separators=(",", ":"))
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key in merged:
                # Same field twice: fall back to nesting (and of ands).
                return json.dumps({"and": {**merged, "and": part}}, separators=(",", ":"))
            merged[key] = value
    return json.dumps({"and": merged}, separators=(",", ":"))


def name_filter(text: str, type_id: str | None = None) -> str | None:
    """The filter the UI's search box uses: name contains ``text`` (and typeId contains ``type_id``)."""
    parts: list[dict[str, Any]] = []
    if text:
        parts.append({"name": {"contains": text}})
    if type_id:
        parts.append({C.ASSET_TYPE_ID: {"contains": type_id}})
    return build_filter(*parts)


def type_filter(type_id: str, subtypes: bool = True) -> str:
    """Assets of a type; with ``subtypes`` also of every type derived from it (``hasType``, reference 2.3)."""
    return json.dumps({C.FILTER_HAS_TYPE if subtypes else C.ASSET_TYPE_ID: type_id}, separators=(",", ":"))


def _filter_param(filter: str | dict[str, Any] | None) -> str | None:
    if filter is None or filter == "" or filter == {}:
        return None
    if isinstance(filter, dict):
        return json.dumps(filter, separators=(",", ":"))
    return filter


def _common(include_shared: bool | None) -> dict[str, Any]:
    return {C.PARAM_INCLUDE_SHARED: include_shared} if include_shared is not None else {}


def _listing_params(
    filter: str | dict[str, Any] | None, sort: str | None, include_shared: bool | None
) -> dict[str, Any]:
    params = _common(include_shared)
    encoded = _filter_param(filter)
    if encoded:
        params[C.PARAM_FILTER] = encoded
    if sort:
        params[C.PARAM_SORT] = sort
    return params


_asset_id: Callable[[Any], str] = attrgetter("asset_id")  # Asset and AssetRecord (C speed: 100 000s)


def _type_id(item: AssetType | AspectType) -> str | None:
    return item.id or None


def _name(item: Aspect | VariableDefinition) -> str | None:
    return item.name or None


ASSET_PAGES = HalPageDecoder(C.KEY_ASSETS, Asset, what="asset listing", item_id=_asset_id)
ASSET_RECORD_PAGES: HalPageDecoder[Any] = HalPageDecoder(
    C.KEY_ASSETS, AssetRecord, what="asset listing", item_id=_asset_id
)
ASSET_TYPE_PAGES = HalPageDecoder(C.KEY_ASSET_TYPES, AssetType, what="asset type listing", item_id=_type_id)
ASPECT_TYPE_PAGES = HalPageDecoder(
    C.KEY_ASPECT_TYPES, AspectType, what="aspect type listing", item_id=_type_id
)
ASPECT_PAGES = HalPageDecoder(C.KEY_ASPECTS, Aspect, what="aspect listing", item_id=_name)
VARIABLE_PAGES = HalPageDecoder(C.KEY_VARIABLES, VariableDefinition, what="variable listing", item_id=_name)


class AssetManagement:
    """Asset Management v3 (reference section 2). Every call raises a typed ``ApiError``; a body that
    is not what the contract says raises ``ResponseFormatError`` naming the field.

    ``include_shared``: None sends nothing (the service's default), True/False send ``includeShared``.
    Listings decode each page straight into models and keep no raw JSON; ``list_pages`` yields a page at
    a time (the fast path for long listings), ``list`` one asset at a time on top of it.
    """

    def __init__(self, client: ApiClient) -> None:
        self._c = client

    async def _get(self, path: str, params: dict[str, Any], type_: type[T], what: str) -> T:
        response = await self._c.request("GET", path, params=params, expected=(200,))
        return _decode(response, type_, what)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        expected: tuple[int, ...],
        json_body: Any = None,
        content: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Asset | None:
        response = await self._c.request(
            method, path, json=json_body, content=content, headers=headers, expected=expected
        )
        if not response.content.strip():
            return None
        return _decode(response, Asset, "asset")

    # -- assets -------------------------------------------------------------------------------------

    async def root(self, include_shared: bool | None = None) -> Asset:
        """The tenant's root asset (``GET /assets/root``)."""
        return await self._get(C.AM_ASSET_ROOT, _common(include_shared), Asset, "root asset")

    async def get(self, asset_id: str, include_shared: bool | None = None) -> Asset:
        """One asset with its ``hierarchyPath`` (``GET /assets/{id}``); NotFoundError when absent."""
        path = C.AM_ASSET.format(id=asset_id)
        return await self._get(path, _common(include_shared), Asset, "asset")

    async def get_raw(self, asset_id: str, include_shared: bool | None = None) -> dict[str, Any]:
        """One asset as the service sends it (a dict with ``_links`` and any field the models do not
        know), for a detail view's raw JSON or ``ihub assets show -o json``."""
        path = C.AM_ASSET.format(id=asset_id)
        data = await self._c.get_json(path, params=_common(include_shared))
        if not isinstance(data, dict):
            raise ResponseFormatError(f"expected a JSON object for an asset, got {type(data).__name__}")
        return data

    async def list_pages(
        self,
        filter: str | dict[str, Any] | None = None,
        sort: str | None = C.DEFAULT_SORT,
        include_shared: bool | None = None,
        page_size: int = C.AM_MAX_PAGE_SIZE,
        concurrency: int | None = None,
        *,
        share_paths: bool = True,
    ) -> AsyncIterator[builtins.list[Asset]]:
        """Every matching asset, a page at a time (in order, each asset once), read with up to
        ``concurrency`` pages in flight (default: ``ConnectionConfig.page_concurrency``).

        Assets of one listing that share a parent share one ``hierarchy_path`` tuple (memory); a caller
        that keeps no page (it prints each and drops it) passes ``share_paths=False`` and saves the work.
        """
        paths = _SharedPaths() if share_paths else None
        async for items in self._pages(ASSET_PAGES, filter, sort, include_shared, page_size, concurrency):
            if paths is not None:
                paths.share(items)
            yield items

    def record_pages(
        self,
        filter: str | dict[str, Any] | None = None,
        sort: str | None = C.DEFAULT_SORT,
        include_shared: bool | None = None,
        page_size: int = C.AM_MAX_PAGE_SIZE,
        concurrency: int | None = None,
    ) -> AsyncIterator[builtins.list[Any]]:
        """``list_pages`` as ``AssetRecord`` items: every matching asset to be passed on as JSON
        (``msgspec.json.encode``) without being looked into; in order, each asset once."""
        return self._pages(ASSET_RECORD_PAGES, filter, sort, include_shared, page_size, concurrency)

    def _pages(
        self,
        decoder: HalPageDecoder[T],
        filter: str | dict[str, Any] | None,
        sort: str | None,
        include_shared: bool | None,
        page_size: int,
        concurrency: int | None,
    ) -> AsyncIterator[builtins.list[T]]:
        params = _listing_params(filter, sort, include_shared)
        return self._c.paginate_hal_pages(
            C.AM_ASSETS, C.KEY_ASSETS, params, page_size, decoder=decoder, concurrency=concurrency
        )

    async def record_page(
        self,
        page: int = 0,
        size: int = 50,
        filter: str | dict[str, Any] | None = None,
        sort: str | None = C.DEFAULT_SORT,
        include_shared: bool | None = None,
    ) -> tuple[builtins.list[Any], int]:
        """``page`` as ``AssetRecord`` items: ``(records, totalElements)``."""
        return await self._page(ASSET_RECORD_PAGES, page, size, filter, sort, include_shared)

    async def _page(
        self,
        decoder: HalPageDecoder[T],
        page: int,
        size: int,
        filter: str | dict[str, Any] | None,
        sort: str | None,
        include_shared: bool | None,
    ) -> tuple[builtins.list[T], int]:
        params = _listing_params(filter, sort, include_shared)
        items, info = await self._c.get_page(
            C.AM_ASSETS, C.KEY_ASSETS, params, page=page, size=size, decoder=decoder
        )
        return items, info.total_elements if info.total_elements is not None else len(items)

    async def list(
        self,
        filter: str | dict[str, Any] | None = None,
        sort: str | None = C.DEFAULT_SORT,
        include_shared: bool | None = None,
        page_size: int = C.AM_MAX_PAGE_SIZE,
        concurrency: int | None = None,
    ) -> AsyncIterator[Asset]:
        """Every matching asset, one at a time (``list_pages`` item by item)."""
        async for items in self.list_pages(filter, sort, include_shared, page_size, concurrency):
            for asset in items:
                yield asset

    async def list_all(
        self,
        filter: str | dict[str, Any] | None = None,
        sort: str | None = C.DEFAULT_SORT,
        include_shared: bool | None = None,
        page_size: int = C.AM_MAX_PAGE_SIZE,
        concurrency: int | None = None,
    ) -> builtins.list[Asset]:
        """Every matching asset in one list (``list_pages`` joined)."""
        assets: builtins.list[Asset] = []
        async for items in self.list_pages(filter, sort, include_shared, page_size, concurrency):
            assets.extend(items)
        return assets

    def children(
        self, parent_id: str, sort: str | None = C.DEFAULT_SORT, include_shared: bool | None = None
    ) -> AsyncIterator[Asset]:
        """The direct children of an asset (filter ``parentId``), one at a time."""
        return self.list({C.ASSET_PARENT_ID: parent_id}, sort=sort, include_shared=include_shared)

    async def page(
        self,
        page: int = 0,
        size: int = 50,
        filter: str | dict[str, Any] | None = None,
        sort: str | None = C.DEFAULT_SORT,
        include_shared: bool | None = None,
    ) -> tuple[builtins.list[Asset], int]:
        """One page for the UI: ``(assets, totalElements)``."""
        items, total = await self._page(ASSET_PAGES, page, size, filter, sort, include_shared)
        _SharedPaths().share(items)
        return items, total

    async def count(
        self, filter: str | dict[str, Any] | None = None, include_shared: bool | None = None
    ) -> int:
        """How many assets match (``totalElements`` of a one-item page)."""
        _, total = await self.page(0, 1, filter, None, include_shared)
        return total

    async def aspects(self, asset_id: str, include_shared: bool | None = None) -> builtins.list[Aspect]:
        """The aspects of an asset with their variables (``GET /assets/{id}/aspects``, all pages)."""
        path = C.AM_ASSET_ASPECTS.format(id=asset_id)
        return await self._all(path, C.KEY_ASPECTS, _common(include_shared), ASPECT_PAGES)

    async def variables(
        self, asset_id: str, include_shared: bool | None = None
    ) -> builtins.list[VariableDefinition]:
        """The variable definitions of an asset (``GET /assets/{id}/variables``, all pages); names as
        received (the reference leaves open whether aspect variables are qualified by aspect)."""
        path = C.AM_ASSET_VARIABLES.format(id=asset_id)
        return await self._all(path, C.KEY_VARIABLES, _common(include_shared), VARIABLE_PAGES)

    async def _all(
        self, path: str, key: str, params: dict[str, Any], decoder: HalPageDecoder[T]
    ) -> builtins.list[T]:
        found: builtins.list[T] = []
        async for items in self._c.paginate_hal_pages(path, key, params, decoder=decoder):
            found.extend(items)
        return found

    async def create(
        self,
        name: str,
        type_id: str,
        parent_id: str,
        *,
        description: str | None = None,
        external_id: str | None = None,
        timezone: str | None = None,
        twin_type: str | None = None,
        location: dict[str, Any] | None = None,
        variables: builtins.list[dict[str, Any]] | None = None,
        aspects: builtins.list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Asset:
        body: dict[str, Any] = {"name": name, C.ASSET_TYPE_ID: type_id, C.ASSET_PARENT_ID: parent_id}
        optional = {
            "description": description,
            "externalId": external_id,
            "timezone": timezone,
            "twinType": twin_type,
            "location": location,
            "variables": variables,
            "aspects": aspects,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        body.update(extra or {})
        created = await self._send("POST", C.AM_ASSETS, json_body=body, expected=C.CREATE_STATUSES)
        if created is None:
            raise ResponseFormatError("the service created the asset but sent no body")
        return created

    async def update(self, asset_id: str, etag: Etag, body: dict[str, Any]) -> Asset:
        """Replace an asset's values (``PUT``, ``If-Match``); a stale etag raises PreconditionFailedError."""
        updated = await self._send(
            "PUT",
            C.AM_ASSET.format(id=asset_id),
            json_body=body,
            headers={C.IF_MATCH: etag_header(etag)},
            expected=C.UPDATE_STATUSES,
        )
        if updated is None:
            raise ResponseFormatError("the service updated the asset but sent no body")
        return updated

    async def patch(self, asset_id: str, etag: Etag, body: dict[str, Any]) -> Asset:
        """Merge-patch an asset (RFC 7396, ``application/merge-patch+json``, ``If-Match``)."""
        patched = await self._send(
            "PATCH",
            C.AM_ASSET.format(id=asset_id),
            content=json.dumps(body),
            headers={C.IF_MATCH: etag_header(etag), "Content-Type": C.MERGE_PATCH_CONTENT_TYPE},
            expected=C.UPDATE_STATUSES,
        )
        if patched is None:
            raise ResponseFormatError("the service patched the asset but sent no body")
        return patched

    async def delete(self, asset_id: str, etag: Etag) -> None:
        await self._c.request(
            "DELETE",
            C.AM_ASSET.format(id=asset_id),
            headers={C.IF_MATCH: etag_header(etag)},
            expected=C.DELETE_STATUSES,
        )

    async def move(self, asset_id: str, new_parent_id: str, etag: Etag) -> Asset | None:
        """Move an asset under a new parent (``POST /assets/{id}/move``). Returns the moved asset if sent."""
        return await self._send(
            "POST",
            C.AM_ASSET_MOVE.format(id=asset_id),
            json_body={C.AM_MOVE_FIELD: new_parent_id},
            headers={C.IF_MATCH: etag_header(etag)},
            expected=(200, 201, 204),
        )

    # -- types --------------------------------------------------------------------------------------

    async def asset_types(
        self,
        filter: str | dict[str, Any] | None = None,
        sort: str | None = C.DEFAULT_SORT,
        exploded: bool | None = None,
        include_shared: bool | None = None,
    ) -> AsyncIterator[AssetType]:
        """Every asset type (``GET /assettypes``); ``exploded=True`` includes inherited aspects and
        variables (marked ``inherited``)."""
        params = _listing_params(filter, sort, include_shared)
        if exploded is not None:
            params[C.PARAM_EXPLODED] = exploded
        async for items in self._c.paginate_hal_pages(
            C.AM_ASSET_TYPES, C.KEY_ASSET_TYPES, params, decoder=ASSET_TYPE_PAGES
        ):
            for item in items:
                yield item

    async def asset_type(
        self, type_id: str, exploded: bool | None = None, include_shared: bool | None = None
    ) -> AssetType:
        params = _common(include_shared)
        if exploded is not None:
            params[C.PARAM_EXPLODED] = exploded
        return await self._get(C.AM_ASSET_TYPE.format(id=type_id), params, AssetType, "asset type")

    async def asset_type_chain(
        self, type_id: str, include_shared: bool | None = None
    ) -> builtins.list[AssetType]:
        """The type and its ancestors, the type first (``core.basicasset`` last), one request each.

        With the whole listing at hand, ``tui.api.models.type_chain(types_by_id, type_id)`` gives the
        same without requests.
        """
        chain: builtins.list[AssetType] = []
        seen: set[str] = set()
        current: str | None = type_id
        while current and current not in seen:
            seen.add(current)
            asset_type = await self.asset_type(current, include_shared=include_shared)
            chain.append(asset_type)
            current = asset_type.parent_type_id
        return chain

    async def aspect_types(
        self,
        filter: str | dict[str, Any] | None = None,
        sort: str | None = C.DEFAULT_SORT,
        include_shared: bool | None = None,
    ) -> AsyncIterator[AspectType]:
        """Every aspect type (``GET /aspecttypes``) with its variables."""
        params = _listing_params(filter, sort, include_shared)
        async for items in self._c.paginate_hal_pages(
            C.AM_ASPECT_TYPES, C.KEY_ASPECT_TYPES, params, decoder=ASPECT_TYPE_PAGES
        ):
            for item in items:
                yield item

    async def aspect_type(self, type_id: str, include_shared: bool | None = None) -> AspectType:
        path = C.AM_ASPECT_TYPE.format(id=type_id)
        return await self._get(path, _common(include_shared), AspectType, "aspect type")


class _SharedPaths:
    """Within one listing, assets with the same parent get the same ``hierarchy_path`` tuple (and the
    same parent-id string): the path is a function of the parent, so a 100 000-asset listing keeps one
    copy per parent instead of one per asset."""

    def __init__(self) -> None:
        self._by_parent: dict[str | None, tuple[HierarchyEntry, ...]] = {}

    def share(self, assets: Iterable[Asset]) -> None:
        by_parent = self._by_parent
        for asset in assets:
            path = by_parent.get(asset.parent_id)
            if path is None:
                by_parent[asset.parent_id] = asset.hierarchy_path
            elif path is not asset.hierarchy_path and path == asset.hierarchy_path:
                force_setattr(asset, "hierarchy_path", path)


def _decode(response: httpx.Response, type_: type[T], what: str) -> T:
    try:
        return decode(response.content, type_, what=what)
    except ResponseFormatError as err:
        raise ResponseFormatError(
            err.message, status=response.status_code, method=response.request.method, url=response.request.url
        ) from None


def require_etag(asset: Asset) -> Etag:
    if asset.etag is None:
        raise ResponseFormatError(f"asset {asset.asset_id} has no etag")
    etag = asset.etag
    return int(etag) if isinstance(etag, float) else etag
