"""Models tolerate missing/extra fields and variant shapes; bad bodies raise ResponseFormatError."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tui.api.errors import ResponseFormatError
from tui.api.models import (
    AgentCertificate,
    AggregateInterval,
    Aspect,
    AspectType,
    Asset,
    AssetType,
    CaCertificate,
    etag_header,
    format_time,
    parse_etag,
    parse_time,
    record_time,
)


def test_asset_full_and_minimal() -> None:
    data = {
        "assetId": "9a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "tenantId": "mytenant",
        "name": "Pump-001",
        "etag": 2,
        "externalId": "SN-4711",
        "description": "Feed pump",
        "timezone": "Europe/Berlin",
        "twinType": "performance",
        "parentId": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "typeId": "mytenant.Pump",
        "location": {"country": "Germany", "locality": "Erlangen", "longitude": 11.0, "latitude": "49.6"},
        "variables": [{"name": "color", "value": "gray"}],
        "aspects": [{"name": "nameplate", "variables": [{"name": "serial", "value": "X1"}]}],
        "hierarchyPath": [{"assetId": "r" * 32, "name": "mytenant"}],
        "deleted": None,
        "sharing": {"modes": ["RECEIVER"]},
        "somethingNew": {"x": 1},
    }
    asset = Asset.from_json(data)
    assert asset.asset_id == data["assetId"] and asset.etag == 2 and asset.type_id == "mytenant.Pump"
    assert asset.location is not None and asset.location.latitude == 49.6
    assert asset.variables[0].value == "gray"
    assert asset.hierarchy_path[0].name == "mytenant"
    assert asset.is_shared and not asset.is_root
    assert asset.raw["somethingNew"] == {"x": 1}
    minimal = Asset.from_json({"assetId": "a" * 32})
    assert minimal.name == "" and minimal.is_root and minimal.etag is None and minimal.location is None


@pytest.mark.parametrize(
    ("raw", "parsed", "header"),
    [(3, 3, "3"), ("3", 3, "3"), ('"7"', 7, "7"), ("abc", "abc", "abc"), (2.0, 2, "2")],
)
def test_etag_number_or_string(raw, parsed, header) -> None:
    assert parse_etag(raw) == parsed
    assert etag_header(parse_etag(raw)) == header
    assert Asset.from_json({"assetId": "a" * 32, "etag": raw}).etag == parsed


@pytest.mark.parametrize("bad", [None, [], "text", 3])
def test_bad_bodies_raise(bad) -> None:
    for cls in (Asset, AssetType, AspectType, Aspect, CaCertificate, AgentCertificate, AggregateInterval):
        with pytest.raises(ResponseFormatError):
            cls.from_json(bad)
    with pytest.raises(ResponseFormatError):
        Asset.from_json({"name": "no id"})


def test_types_and_aspects() -> None:
    at = AssetType.from_json(
        {
            "id": "t.Pump",
            "name": "Pump",
            "parentTypeId": "core.basicdevice",
            "instantiable": True,
            "etag": "4",
            "aspects": [
                {
                    "name": "env",
                    "aspectType": {
                        "id": "t.Env",
                        "name": "Env",
                        "variables": [
                            {"name": "temp", "dataType": "DOUBLE", "unit": "C", "qualityCode": True}
                        ],
                    },
                }
            ],
            "variables": [{"name": "color", "dataType": "STRING", "length": 10, "defaultValue": "gray"}],
        }
    )
    assert at.etag == 4 and at.aspects[0].aspect_type_id == "t.Env"
    assert (
        at.aspects[0].aspect_type is not None and at.aspects[0].aspect_type.variables[0].quality_code is True
    )
    assert at.variables[0].length == 10
    aspect = Aspect.from_json(
        {"name": "env", "aspectTypeId": "t.Env", "category": "dynamic", "variables": [{"name": "temp"}]}
    )
    assert aspect.is_dynamic and aspect.variables[0].name == "temp"


def test_aggregate_interval() -> None:
    agg = AggregateInterval.from_json(
        {
            "starttime": "2024-03-01T10:00:00Z",
            "endtime": "2024-03-01T10:04:00Z",
            "temperature": {
                "countgood": 4,
                "countuncertain": 1,
                "countbad": 0,
                "sum": 86.0,
                "average": 21.5,
                "minvalue": 21,
                "mintime": "2024-03-01T10:01:00Z",
                "sd": None,
            },
        }
    )
    assert agg.start == datetime(2024, 3, 1, 10, tzinfo=UTC)
    stats = agg.variables["temperature"]
    assert stats.count == 5 and stats.minvalue == 21.0 and stats.sd is None
    assert stats.mintime == datetime(2024, 3, 1, 10, 1, tzinfo=UTC)


def test_ca_certificate_and_validity_variant() -> None:
    ca = CaCertificate.from_json(
        {
            "id": "c" * 32,
            "name": "ca",
            "status": "VERIFIED",
            "validFrom": "2024-01-01T00:00:00Z",
            "validTo": "2025-01-01T00:00:00Z",
            "etag": 0,
            "caCertificate": "-----BEGIN CERTIFICATE-----",
        }
    )
    assert ca.verified and ca.valid_to is not None and ca.valid_to.year == 2025 and ca.etag == 0
    variant = CaCertificate.from_json(
        {
            "id": "d",
            "name": "x",
            "status": "ACTIVE",
            "validity": {"notBefore": "2024-01-01T00:00:00Z", "notAfter": "2024-06-01T00:00:00Z"},
        }
    )
    assert variant.verified and variant.valid_to == datetime(2024, 6, 1, tzinfo=UTC)
    assert not CaCertificate.from_json({"id": "e", "status": "NOT_VERIFIED"}).verified


def test_agent_certificate_both_shapes_and_no_key_in_repr() -> None:
    key = "-----BEGIN RSA PRIVATE KEY-----\nFAKEKEY\n-----END RSA PRIVATE KEY-----"
    flat = AgentCertificate.from_json(
        {
            "id": "01G16QJSRNKA3JD4DQE2Z7KPEK",
            "name": "d1",
            "clientId": "t_d1",
            "privateKey": key,
            "publicKey": "CERT",
            "status": "READY",
        }
    )
    nested = AgentCertificate.from_json(
        {
            "id": "01G16QJSRNKA3JD4DQE2Z7KPEK",
            "name": "d1",
            "clientId": "t_d1",
            "credentials": {"certificatePem": "CERT", "privateKey": key},
        }
    )
    for cert in (flat, nested):
        assert cert.private_key == key and cert.certificate_pem == "CERT" and cert.client_id == "t_d1"
        assert "FAKEKEY" not in repr(cert) and "FAKEKEY" not in str(cert.raw)


def test_time_helpers() -> None:
    dt = datetime(2024, 3, 1, 11, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert format_time(dt) == "2024-03-01T10:00:00.123Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_time(datetime(2024, 3, 1))
    assert parse_time("2024-03-01T10:00:00.000Z") == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert parse_time("2024-03-01T12:00:00+02:00") == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert parse_time("garbage") is None
    assert record_time({"_time": "2024-03-01T10:00:00.500Z", "v": 1}) == datetime(
        2024, 3, 1, 10, 0, 0, 500000, tzinfo=UTC
    )
