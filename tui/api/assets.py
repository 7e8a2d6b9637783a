"""Asset Management v3 (reference section 2): assets, asset types, aspect types, paging and etags."""

from __future__ import annotations

import builtins
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from tui.api import contract as C
from tui.api.errors import ResponseFormatError
from tui.api.models import Aspect, AspectType, Asset, AssetType, Etag, VariableDefinition, etag_header

if TYPE_CHECKING:
    from tui.api.client import ApiClient


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


class AssetManagement:
    def __init__(self, client: ApiClient) -> None:
        self._c = client

    # -- assets -------------------------------------------------------------------------------------

    async def root(self, include_shared: bool | None = None) -> Asset:
        return Asset.from_json(await self._c.get_json(C.AM_ASSET_ROOT, params=_common(include_shared)))

    async def get(self, asset_id: str, include_shared: bool | None = None) -> Asset:
        path = C.AM_ASSET.format(id=asset_id)
        return Asset.from_json(await self._c.get_json(path, params=_common(include_shared)))

    async def list(
        self,
        filter: str | dict[str, Any] | None = None,
        sort: str | None = C.DEFAULT_SORT,
        include_shared: bool | None = None,
        page_size: int = C.AM_MAX_PAGE_SIZE,
    ) -> AsyncIterator[Asset]:
        params = _listing_params(filter, sort, include_shared)
        async for item in self._c.paginate_hal(C.AM_ASSETS, C.KEY_ASSETS, params, page_size=page_size):
            yield Asset.from_json(item)

    def children(
        self, parent_id: str, sort: str | None = C.DEFAULT_SORT, include_shared: bool | None = None
    ) -> AsyncIterator[Asset]:
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
        params = _listing_params(filter, sort, include_shared)
        items, info = await self._c.get_page(C.AM_ASSETS, C.KEY_ASSETS, params, page=page, size=size)
        total = info.total_elements if info.total_elements is not None else len(items)
        return [Asset.from_json(i) for i in items], total

    async def count(
        self, filter: str | dict[str, Any] | None = None, include_shared: bool | None = None
    ) -> int:
        """How many assets match (``totalElements`` of a one-item page)."""
        _, total = await self.page(0, 1, filter, None, include_shared)
        return total

    async def aspects(self, asset_id: str, include_shared: bool | None = None) -> builtins.list[Aspect]:
        path = C.AM_ASSET_ASPECTS.format(id=asset_id)
        return [
            Aspect.from_json(i)
            async for i in self._c.paginate_hal(path, C.KEY_ASPECTS, _common(include_shared))
        ]

    async def variables(
        self, asset_id: str, include_shared: bool | None = None
    ) -> builtins.list[VariableDefinition]:
        path = C.AM_ASSET_VARIABLES.format(id=asset_id)
        return [
            VariableDefinition.from_json(i)
            async for i in self._c.paginate_hal(path, C.KEY_VARIABLES, _common(include_shared))
        ]

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
        data = await self._c.send_json("POST", C.AM_ASSETS, json=body, expected=C.CREATE_STATUSES)
        return Asset.from_json(data)

    async def update(self, asset_id: str, etag: Etag, body: dict[str, Any]) -> Asset:
        """Replace an asset's values (``PUT``, ``If-Match``); a stale etag raises PreconditionFailedError."""
        data = await self._c.send_json(
            "PUT",
            C.AM_ASSET.format(id=asset_id),
            json=body,
            headers={C.IF_MATCH: etag_header(etag)},
            expected=C.UPDATE_STATUSES,
        )
        return Asset.from_json(data)

    async def patch(self, asset_id: str, etag: Etag, body: dict[str, Any]) -> Asset:
        """Merge-patch an asset (RFC 7396, ``application/merge-patch+json``, ``If-Match``)."""
        data = await self._c.send_json(
            "PATCH",
            C.AM_ASSET.format(id=asset_id),
            content=json.dumps(body),
            headers={C.IF_MATCH: etag_header(etag), "Content-Type": C.MERGE_PATCH_CONTENT_TYPE},
            expected=C.UPDATE_STATUSES,
        )
        return Asset.from_json(data)

    async def delete(self, asset_id: str, etag: Etag) -> None:
        await self._c.request(
            "DELETE",
            C.AM_ASSET.format(id=asset_id),
            headers={C.IF_MATCH: etag_header(etag)},
            expected=C.DELETE_STATUSES,
        )

    async def move(self, asset_id: str, new_parent_id: str, etag: Etag) -> Asset | None:
        """Move an asset under a new parent (``POST /assets/{id}/move``). Returns the moved asset if sent."""
        data = await self._c.send_json(
            "POST",
            C.AM_ASSET_MOVE.format(id=asset_id),
            json={C.AM_MOVE_FIELD: new_parent_id},
            headers={C.IF_MATCH: etag_header(etag)},
            expected=(200, 201, 204),
        )
        return Asset.from_json(data) if data is not None else None

    # -- types --------------------------------------------------------------------------------------

    async def asset_types(
        self,
        filter: str | dict[str, Any] | None = None,
        sort: str | None = C.DEFAULT_SORT,
        exploded: bool | None = None,
        include_shared: bool | None = None,
    ) -> AsyncIterator[AssetType]:
        params = _listing_params(filter, sort, include_shared)
        if exploded is not None:
            params[C.PARAM_EXPLODED] = exploded
        async for item in self._c.paginate_hal(C.AM_ASSET_TYPES, C.KEY_ASSET_TYPES, params):
            yield AssetType.from_json(item)

    async def asset_type(
        self, type_id: str, exploded: bool | None = None, include_shared: bool | None = None
    ) -> AssetType:
        params = _common(include_shared)
        if exploded is not None:
            params[C.PARAM_EXPLODED] = exploded
        return AssetType.from_json(await self._c.get_json(C.AM_ASSET_TYPE.format(id=type_id), params=params))

    async def aspect_types(
        self,
        filter: str | dict[str, Any] | None = None,
        sort: str | None = C.DEFAULT_SORT,
        include_shared: bool | None = None,
    ) -> AsyncIterator[AspectType]:
        params = _listing_params(filter, sort, include_shared)
        async for item in self._c.paginate_hal(C.AM_ASPECT_TYPES, C.KEY_ASPECT_TYPES, params):
            yield AspectType.from_json(item)

    async def aspect_type(self, type_id: str, include_shared: bool | None = None) -> AspectType:
        path = C.AM_ASPECT_TYPE.format(id=type_id)
        return AspectType.from_json(await self._c.get_json(path, params=_common(include_shared)))


def require_etag(asset: Asset) -> Etag:
    if asset.etag is None:
        raise ResponseFormatError(f"asset {asset.asset_id} has no etag")
    return asset.etag
