"""The asset model lock (reference 2.1 GET/PUT /model/lock, what `mc asset-lock` calls): while locked,
existing aspect and asset types can be neither changed nor deleted; new types can still be created."""

from __future__ import annotations

from typing import Any

import httpx

AM = "/api/assetmanagement/v3"
ASPECT = {
    "name": "LockCheck",
    "category": "dynamic",
    "scope": "private",
    "description": "lock check",
    "variables": [{"name": "level", "dataType": "DOUBLE", "unit": "m", "qualityCode": True}],
}


async def _lock(client: httpx.AsyncClient, headers: dict[str, str], enabled: str) -> httpx.Response:
    return await client.put(f"{AM}/model/lock", params={"enabled": enabled}, headers=headers)


async def _put(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    path: str,
    body: dict[str, Any],
    etag: int | None = None,
) -> httpx.Response:
    extra = {"If-Match": str(etag)} if etag is not None else {}
    return await client.put(f"{AM}{path}", json=body, headers={**headers, **extra})


async def test_lock_state_read_and_set(raw_client: httpx.AsyncClient, auth_headers: dict[str, str]) -> None:
    assert (await raw_client.get(f"{AM}/model/lock", headers=auth_headers)).json() == {"enabled": False}
    locked = await _lock(raw_client, auth_headers, "true")
    assert locked.status_code == 200 and locked.json() == {"enabled": True}
    assert (await raw_client.get(f"{AM}/model/lock", headers=auth_headers)).json() == {"enabled": True}
    assert (await _lock(raw_client, auth_headers, "false")).json() == {"enabled": False}
    for bad in ("", "yes"):
        response = await _lock(raw_client, auth_headers, bad)
        assert response.status_code == 400 and "'enabled'" in response.json()["errors"][0]["message"]


async def test_locking_needs_the_write_scope(
    raw_client: httpx.AsyncClient, readonly_headers: dict[str, str]
) -> None:
    assert (await raw_client.get(f"{AM}/model/lock", headers=readonly_headers)).status_code == 200
    assert (await _lock(raw_client, readonly_headers, "true")).status_code == 403


async def test_locked_model_refuses_changes_to_existing_types_but_not_new_ones(
    raw_client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    created = await _put(raw_client, auth_headers, "/aspecttypes/demo.LockCheck", ASPECT)
    assert created.status_code == 201, created.text
    etag = created.json()["etag"]
    assert (await _lock(raw_client, auth_headers, "true")).json() == {"enabled": True}

    changed = await _put(raw_client, auth_headers, "/aspecttypes/demo.LockCheck", ASPECT, etag)
    assert changed.status_code == 409
    error = changed.json()["errors"][0]
    assert error["code"] == "mdsp.core.assetmanagement.modelLocked" and "locked" in error["message"]
    patched = await raw_client.patch(
        f"{AM}/aspecttypes/demo.LockCheck",
        json={"description": "x"},
        headers={**auth_headers, "If-Match": str(etag), "Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 409
    deleted = await raw_client.delete(
        f"{AM}/aspecttypes/demo.LockCheck", headers={**auth_headers, "If-Match": str(etag)}
    )
    assert deleted.status_code == 409

    # New types can still be created while locked (Asset Manager docs, "Locking a data model").
    asset_type = {
        "name": "LockCheckType",
        "parentTypeId": "core.basicasset",
        "instantiable": True,
        "scope": "private",
        "aspects": [{"name": "lock", "aspectTypeId": "demo.LockCheck"}],
        "variables": [],
    }
    made = await _put(raw_client, auth_headers, "/assettypes/demo.LockCheckType", asset_type)
    assert made.status_code == 201, made.text
    type_etag = made.json()["etag"]
    refused = await raw_client.delete(
        f"{AM}/assettypes/demo.LockCheckType", headers={**auth_headers, "If-Match": str(type_etag)}
    )
    assert refused.status_code == 409

    # Unlocked again: the same changes go through.
    await _lock(raw_client, auth_headers, "false")
    gone = await raw_client.delete(
        f"{AM}/assettypes/demo.LockCheckType", headers={**auth_headers, "If-Match": str(type_etag)}
    )
    assert gone.status_code == 204
    again = await _put(raw_client, auth_headers, "/aspecttypes/demo.LockCheck", ASPECT, etag)
    assert again.status_code == 200
