"""MindConnect MQTT agents in the simulator (issue 11): who may connect, and where published data goes.

Plain logic over ``TenantState``, no networking; ``tui.sim.broker`` calls it for every connection and
message. Reference 5.1 and 5.2 give the facts; everything else here is the project's contract, UNCONFIRMED
against the real service, and mirrored where the client relies on it in ``tui.api.contract`` (MQTT_*).

**Who may connect** (checked on every CONNECT, and the TLS handshake already refuses what it can):

- TLS with a client certificate is required.
- Accepted: a certificate issued directly (MindConnect has no intermediate CAs) by a CA certificate of the
  tenant whose status is ``VERIFIED`` at the moment of connecting, or an auto-generated agent certificate
  that the MindConnect MQTT API issued and has not deleted (the very certificate: same fingerprint). It
  must be valid now by the simulator's clock.
- Client id: ``<tenant>_<certificate CN>`` (reference 5.1, Europe 1). Auto-generated agent certificates
  carry CN = their ``name``, so their ``clientId`` follows the same rule.
- One connection per client id: a second connection with a client id that is connected is **refused**
  (CONNACK 2). MQTT 3.1.1 would drop the first one instead (MQTT-3.1.4-2); issue 11 asks for the refusal.
- Refusals, each with its reason in the log ``tui.sim.mqtt``: in the TLS handshake (no certificate, an
  issuer that is not trusted now, an expired certificate: the client sees the connection closed); CONNACK
  5 "not authorized" (a deleted agent certificate, a CA no longer verified behind a resumed TLS session,
  validity by the simulator's clock); CONNACK 2 "identifier rejected" (wrong or duplicate client id).

**Where data goes.** On its first accepted connection a client id becomes an *agent*: an asset named
after the client id, of type ``<tenant>.MqttAgent``, under the tenant's root asset, with the dynamic
aspect ``AgentData`` (aspect type ``<tenant>.AgentData``, variables ``AGENT_VARIABLES``). Its time series
hold only what the agent publishes (no synthetic signal), so IoT Time Series v3 and Aggregates v4 show
exactly that. Each agent has a mapping table ``dataPointId -> (assetId, aspect, variable)``; by default
every variable of ``AgentData`` is mapped under its own name (``temperature`` -> ``AgentData.temperature``).

Time series messages: topic ``tc/<tenant>/<clientId>/o/mc_v3/ts``, payload (reference 5.2)
``{"timeseries":[{"timestamp":"2024-05-01T12:00:00.000Z","values":[{"dataPointId":"temperature",
"value":"21.5","qualityCode":"0"}]}]}``. Values are strings converted to the variable's type (``"21.5"``,
``"42"``, ``"true"``); ``qualityCode`` is a decimal string and becomes ``<variable>_qc``. Values of one
timestamp are merged into the record at that time. Dropped and logged, never fatal: a payload that is not
JSON or not of that shape, a timestamp that does not parse, an unmapped ``dataPointId``, a value that does
not fit its variable, a message on another client's topic. Other topics under the agent's prefix (events,
files, commands) are accepted and not processed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from tui.sim.model import (
    AspectType,
    Asset,
    AssetType,
    AssetTypeAspect,
    TenantState,
    VariableDef,
    find_aspect,
)
from tui.sim.signals import INT32, INT64, TimeFormatError, parse_time

log = logging.getLogger("tui.sim.mqtt")

AGENT_ASPECT = "AgentData"
TS_TOPIC = "tc/{tenant}/{client_id}/o/mc_v3/ts"
# CONNACK return codes of MQTT 3.1.1 the broker refuses with.
CONNACK_IDENTIFIER_REJECTED = 2
CONNACK_NOT_AUTHORIZED = 5
# The longest payload processed; bigger ones are dropped (a real agent batches well below this).
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_LOGGED_DROPS = 5

#: The variables of every agent's ``AgentData`` aspect: the data points an agent can publish.
AGENT_VARIABLES: tuple[VariableDef, ...] = (
    VariableDef("temperature", "DOUBLE", "°C", qualityCode=True),
    VariableDef("pressure", "DOUBLE", "bar", qualityCode=True),
    VariableDef("humidity", "DOUBLE", "%", qualityCode=True),
    VariableDef("speed", "DOUBLE", "rpm", qualityCode=True),
    VariableDef("level", "DOUBLE", "%", qualityCode=True),
    VariableDef("power", "DOUBLE", "kW", qualityCode=True),
    VariableDef("counter", "LONG", qualityCode=True),
    VariableDef("running", "BOOLEAN", qualityCode=True),
    VariableDef("status", "STRING", length=255, qualityCode=True),
    # The data point `ihub certs check --publish` sends (tui.api.contract.MQTT_CHECK_DATA_POINT).
    VariableDef("heartbeat", "LONG", qualityCode=True),
)


@dataclass(frozen=True)
class Refusal:
    """Why a connection is refused: ``kind`` is ``not-authorized``, ``client-id`` or ``duplicate``."""

    kind: str
    reason: str

    @property
    def connack(self) -> int:
        return CONNACK_NOT_AUTHORIZED if self.kind == "not-authorized" else CONNACK_IDENTIFIER_REJECTED


@dataclass
class MqttAgent:
    """An agent: client id, asset, and mapping table (``dataPointId`` -> asset id, aspect, variable)."""

    client_id: str
    asset_id: str
    mappings: dict[str, tuple[str, str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Trusted:
    """A certificate that may issue client certificates now: a verified tenant CA or the agent CA."""

    label: str
    certificate: x509.Certificate
    pem: str


# ---------------------------------------------------------------------------------- authentication


def trusted_issuers(state: TenantState, agent_ca: x509.Certificate | None) -> list[Trusted]:
    """The tenant's verified CA certificates (as uploaded) and the simulator's agent CA, now."""
    from cryptography.hazmat.primitives.serialization import Encoding

    out: list[Trusted] = []
    with state.lock:
        verified = [
            (r["name"], r["id"], r["caCertificate"])
            for r in state.ca_certificates.values()
            if r.get("status") == "VERIFIED"
        ]
    for name, ident, pem in verified:
        try:
            cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
        except ValueError:
            continue
        out.append(Trusted(f"CA certificate '{name}' ({ident})", cert, pem))
    if agent_ca is not None:
        out.append(Trusted("the agent CA", agent_ca, agent_ca.public_bytes(Encoding.PEM).decode("ascii")))
    return out


def common_name(cert: x509.Certificate) -> str | None:
    values = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else None


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def authorize(
    state: TenantState,
    agent_ca: x509.Certificate | None,
    der: bytes | None,
    client_id: str,
    now: dt.datetime,
) -> Refusal | None:
    """None when ``der`` (the client certificate) may connect as ``client_id`` now; else the refusal.

    The one-connection-per-client-id rule is the broker's (it knows who is online)."""
    if not der:
        return Refusal("not-authorized", "no client certificate")
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return Refusal("not-authorized", "the client certificate cannot be read")
    subject = cert.subject.rfc4514_string() or "(empty subject)"
    issuer = next((t for t in trusted_issuers(state, agent_ca) if _issued_by(cert, t.certificate)), None)
    if issuer is None:
        return Refusal(
            "not-authorized",
            f"certificate '{subject}' is not issued by a verified CA certificate of tenant "
            f"'{state.tenant}' (issuer '{cert.issuer.rfc4514_string()}')",
        )
    if agent_ca is not None and issuer.certificate == agent_ca:
        fingerprint = cert.fingerprint(hashes.SHA256())
        with state.lock:
            pems = [r["credentials"]["certificatePem"] for r in state.agent_certificates.values()]
        if not any(_same_certificate(pem, fingerprint) for pem in pems):
            return Refusal(
                "not-authorized", f"agent certificate '{subject}' was deleted (or never issued by the API)"
            )
    if cert.not_valid_after_utc < now:
        return Refusal(
            "not-authorized",
            f"certificate '{subject}' expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC",
        )
    if cert.not_valid_before_utc > now:
        return Refusal(
            "not-authorized",
            f"certificate '{subject}' is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC",
        )
    cn = common_name(cert)
    if not cn:
        return Refusal("client-id", f"certificate '{subject}' has no common name, so no client id")
    expected = f"{state.tenant}_{cn}"
    if client_id != expected:
        return Refusal(
            "client-id", f"client id '{client_id}' does not match the certificate: expected '{expected}'"
        )
    return None


def _same_certificate(pem: str, fingerprint: bytes) -> bool:
    try:
        return x509.load_pem_x509_certificate(pem.encode("ascii")).fingerprint(hashes.SHA256()) == fingerprint
    except ValueError:
        return False


# ------------------------------------------------------------------------------------------ agents


def _agent_types(state: TenantState) -> tuple[str, str]:
    """The agent asset type and aspect type ids, created on first use."""
    t = state.tenant
    aspect_id, type_id = f"{t}.{AGENT_ASPECT}", f"{t}.MqttAgent"
    if aspect_id not in state.aspect_types:
        state.aspect_types[aspect_id] = AspectType(
            aspect_id,
            AGENT_ASPECT,
            "dynamic",
            [
                VariableDef(v.name, v.dataType, v.unit, length=v.length, qualityCode=v.qualityCode)
                for v in AGENT_VARIABLES
            ],
            description="What an MQTT agent publishes on tc/<tenant>/<clientId>/o/mc_v3/ts",
            synthetic=False,
        )
    if type_id not in state.asset_types:
        state.asset_types[type_id] = AssetType(
            type_id,
            "MqttAgent",
            "core.basicdevice",
            description="An agent connected to the MindConnect MQTT broker",
            aspects=[AssetTypeAspect(AGENT_ASPECT, aspect_id)],
        )
    return type_id, aspect_id


def ensure_agent(state: TenantState, client_id: str, now: dt.datetime) -> MqttAgent:
    """The agent of ``client_id``, created with its asset and default mappings on first use."""
    with state.lock:
        agent = state.mqtt_agents.get(client_id)
        if (
            agent is not None
            and agent.asset_id in state.assets
            and state.assets[agent.asset_id].deleted is None
        ):
            return agent
        type_id, _aspect_id = _agent_types(state)
        asset_id = uuid.uuid4().hex
        while asset_id in state.assets:
            asset_id = uuid.uuid4().hex
        root = state.assets.get(state.root_id)
        state.assets[asset_id] = Asset(
            assetId=asset_id,
            name=client_id,
            typeId=type_id,
            parentId=state.root_id,
            description=f"MQTT agent {client_id} (created on its first connection)",
            timezone=root.timezone if root is not None else "Europe/Berlin",
            createdAt=now.timestamp(),
        )
        state.children.setdefault(state.root_id, []).append(asset_id)
        state.version += 1
        agent = MqttAgent(
            client_id, asset_id, {v.name: (asset_id, AGENT_ASPECT, v.name) for v in AGENT_VARIABLES}
        )
        state.mqtt_agents[client_id] = agent
    log.info("agent %s: asset %s created (aspect %s)", client_id, asset_id, AGENT_ASPECT)
    return agent


# ------------------------------------------------------------------------------------- time series


@dataclass
class WriteReport:
    """What became of one message: values written, and the reasons values (or all) were dropped."""

    written: int = 0
    dropped: list[str] = field(default_factory=list)


def _convert(var: VariableDef, text: Any) -> Any:
    """A payload value (a string, reference 5.2; plain JSON numbers and booleans tolerated) -> the
    variable's type; ValueError in plain words when it does not fit."""
    kind = var.dataType.upper()
    if kind == "BOOLEAN":
        if isinstance(text, bool):
            return text
        if isinstance(text, str) and text.strip().lower() in ("true", "false", "1", "0"):
            return text.strip().lower() in ("true", "1")
        raise ValueError(f"{text!r} is not a BOOLEAN (true or false)")
    if kind in ("INT", "LONG"):
        if isinstance(text, bool) or not isinstance(text, str | int):
            raise ValueError(f"{text!r} is not an integer")
        try:
            value = int(text.strip()) if isinstance(text, str) else text
        except ValueError:
            raise ValueError(f"{text!r} is not an integer") from None
        lo, hi = INT32 if kind == "INT" else INT64
        if not lo <= value <= hi:
            raise ValueError(f"{text!r} is out of range for {kind}")
        return value
    if kind == "DOUBLE":
        if isinstance(text, bool) or not isinstance(text, str | int | float):
            raise ValueError(f"{text!r} is not a number")
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"{text!r} is not a finite number")
        return number
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a string")
    if var.length and len(text) > var.length:
        raise ValueError(f"the value is longer than {var.length} characters")
    return text


def _quality(text: Any) -> int | None:
    if text is None or text == "":
        return None
    value = int(str(text).strip(), 10)
    if not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"quality code {text!r} is out of range")
    return value


def write_timeseries(state: TenantState, client_id: str, payload: bytes) -> WriteReport:
    """Write one ``o/mc_v3/ts`` message of ``client_id`` into the time series; never raises on bad input."""
    report = WriteReport()
    if len(payload) > MAX_PAYLOAD_BYTES:
        report.dropped.append(f"the payload is larger than {MAX_PAYLOAD_BYTES // 1024} KiB")
        return report
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        report.dropped.append("the payload is not JSON")
        return report
    entries = body.get("timeseries") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        report.dropped.append('the payload has no "timeseries" list')
        return report
    with state.lock:
        agent = state.mqtt_agents.get(client_id)
        if agent is None:
            report.dropped.append(f"no agent for client id {client_id}")
            return report
        records: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
        for index, entry in enumerate(entries):
            where = f"timeseries[{index}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("values"), list):
                report.dropped.append(f'{where} is not an object with a "values" list')
                continue
            stamp = entry.get("timestamp")
            try:
                if not isinstance(stamp, str):
                    raise TimeFormatError("missing")
                t = parse_time(stamp)
            except TimeFormatError:
                report.dropped.append(f"{where}: timestamp {str(stamp)[:40]!r} is not ISO 8601")
                continue
            for item in entry["values"]:
                _one_value(state, agent, item, t, where, records, report)
        for key, by_time in records.items():
            target = state.ts_writes.setdefault(key, {})
            for t, rec in by_time.items():
                target.setdefault(t, {}).update(rec)
    return report


def _one_value(
    state: TenantState,
    agent: MqttAgent,
    item: Any,
    t: int,
    where: str,
    records: dict[tuple[str, str], dict[int, dict[str, Any]]],
    report: WriteReport,
) -> None:
    if not isinstance(item, dict) or not isinstance(item.get("dataPointId"), str):
        report.dropped.append(f'{where}: a value without a "dataPointId"')
        return
    point = item["dataPointId"]
    target = agent.mappings.get(point)
    if target is None:
        report.dropped.append(f"{where}: data point {point[:64]!r} is not mapped")
        return
    asset_id, aspect, variable = target
    aspect_type = _aspect_of(state, asset_id, aspect)
    var = next((v for v in aspect_type.variables if v.name == variable), None) if aspect_type else None
    if var is None:
        report.dropped.append(
            f"{where}: data point {point!r} maps to {aspect}.{variable}, which no longer exists"
        )
        return
    try:
        value = _convert(var, item.get("value"))
        quality = _quality(item.get("qualityCode"))
    except ValueError as exc:
        report.dropped.append(f"{where}: data point {point!r}: {exc}")
        return
    rec = records.setdefault((asset_id, aspect), {}).setdefault(t, {})
    rec[variable] = value
    if quality is not None and var.qualityCode:
        rec[variable + "_qc"] = quality
    report.written += 1


def _aspect_of(state: TenantState, asset_id: str, aspect: str) -> AspectType | None:
    asset = state.assets.get(asset_id)
    if asset is None or asset.deleted is not None:
        return None
    return find_aspect(state, asset_id, aspect)


def handle_message(state: TenantState, client_id: str, topic: str, payload: bytes) -> WriteReport | None:
    """A PUBLISH from ``client_id``: time series are written, other topics ignored; logs what was dropped.
    Returns the report for a time series message, None for any other topic."""
    own = TS_TOPIC.format(tenant=state.tenant, client_id=client_id)
    if topic != own:
        if topic.endswith("/o/mc_v3/ts") and topic.startswith("tc/"):
            log.warning(
                "%s: message on %s dropped: an agent publishes on its own topic %s", client_id, topic, own
            )
        else:
            log.debug("%s: message on %s not processed", client_id, topic)
        return None
    report = write_timeseries(state, client_id, payload)
    if report.dropped:
        shown = "; ".join(report.dropped[:MAX_LOGGED_DROPS])
        more = len(report.dropped) - MAX_LOGGED_DROPS
        log.warning(
            "%s: %d value(s) written, dropped: %s%s",
            client_id,
            report.written,
            shown,
            f" (and {more} more)" if more > 0 else "",
        )
    else:
        log.info("%s: %d value(s) written", client_id, report.written)
    return report


__all__ = [
    "AGENT_ASPECT",
    "AGENT_VARIABLES",
    "MqttAgent",
    "Refusal",
    "TS_TOPIC",
    "WriteReport",
    "authorize",
    "ensure_agent",
    "handle_message",
    "trusted_issuers",
    "write_timeseries",
]
