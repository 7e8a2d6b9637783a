"""Check an agent or device certificate against a MindConnect MQTT broker, and publish as an agent would
(issue 11 §2, §3). No Textual; the Certificates screen and ``ihub certs check`` / ``ihub certs publish``
only show what these report.

**The check** (``check_connection``) reports each step as it starts and ends (``on_step``, a plain or
async callable taking a ``CheckEvent``), in this order:

1. ``certificate``: read the certificate (a chain file is fine: the first certificate is the agent's),
   the key (it must belong to the certificate) and the root CA file; the client id (given, or
   ``<tenant>_<CN>``); the validity (an expired certificate is noted, and the broker still asked).
2. ``resolve``: the broker's name to addresses.
3. ``tcp``: a TCP connection to the port.
4. ``tls``: the TLS handshake, the broker's certificate checked against the root CA (or the system's
   trusted roots) and the host name; the client certificate is sent.
5. ``client-certificate``: whether the broker kept the connection after seeing the client certificate
   (with TLS 1.3 it judges it only after the handshake; a short read tells, mqtt.md "Client check").
6. ``connect``: MQTT CONNECT with paho-mqtt and the CONNACK return code.
7. ``publish`` (optional): one time-series message on ``tc/<tenant>/<clientId>/o/mc_v3/ts``, QoS 1,
   acknowledged by the broker.

Steps 2-5 use ``socket`` and ``ssl`` directly, because an MQTT client library blurs them into one error
(mqtt.md, "Error mapping table"); step 6 is paho-mqtt's CONNECT, no MQTT bytes of our own.

Each failure has a plain ``Cause`` (``CheckResult.cause``) and sentence (``CheckResult.message``): the
port closed, the broker root CA mismatch, an expired certificate, a certificate not issued by a verified
CA, a deleted agent certificate, a wrong client id, a client id already connected. With an API client the
check also looks the certificate up in the tenant (its issuing CA and whether it is verified; an agent
certificate and its client id) to name the cause exactly.

**Publishing** (``publish_timeseries``) connects once (after the same transport steps, so a refusal has
the same plain cause) and sends ``VAR=VALUE`` data points as ``o/mc_v3/ts`` messages, once or every few
seconds. ``VAR=LOW..HIGH`` sends a random value in that range each time (for charts in demos).

Sources: reference §5.1 (client id), §5.2 (broker, topics, payload), ``../shared/reference/mqtt.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import json
import random
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from tui.api import contract as C
from tui.api.errors import ApiError
from tui.flows.certificates import StepState, server_now
from tui.pki.errors import PassphraseRequiredError, PkiError
from tui.pki.inspection import CertificateInfo, fingerprint_sha256, inspect_certificate
from tui.pki.load import load_certificate, load_certificates, load_private_key, read_file
from tui.pki.verify import key_matches_certificate

if TYPE_CHECKING:
    from tui.api.client import ApiClient

CONNECT_TIMEOUT = 5.0
TLS_TIMEOUT = 10.0
PEEK_SECONDS = 0.5
CONNACK_TIMEOUT = 10.0
PUBACK_TIMEOUT = 10.0
KEEPALIVE = 60

# paho-mqtt reports MQTT 3.1.1 CONNACK codes as MQTT 5 reason codes (paho/mqtt/_packet.py).
_V5_TO_V311 = {0: 0, 132: 1, 133: 2, 136: 3, 134: 4, 135: 5}
_CONNACK_WORDS = {
    1: "unacceptable protocol version",
    2: "identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorized",
}


# ------------------------------------------------------------------------------------------ broker


@dataclass(frozen=True)
class BrokerAddress:
    """A broker's host and TLS port."""

    host: str
    port: int = C.MQTT_BROKER_EU1[1]

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @classmethod
    def parse(cls, text: str) -> BrokerAddress:
        """``host:port``, ``[v6]:port``, ``mqtts://host:port`` or ``host`` (port 8883); else ValueError."""
        value = (text or "").strip()
        for scheme in ("mqtts://", "ssl://", "tls://"):
            if value.lower().startswith(scheme):
                value = value[len(scheme) :]
        value = value.rstrip("/")
        if not value:
            raise ValueError(
                "the broker is empty: give HOST:PORT, e.g. mindconnectmqtt.eu1.mindsphere.io:8883"
            )
        if value.startswith("["):
            host, _, rest = value[1:].partition("]")
            port_text = rest[1:] if rest.startswith(":") else ""
        elif value.count(":") == 1:
            host, port_text = value.split(":")
        else:
            host, port_text = value, ""
        if not host or any(c.isspace() for c in host) or "/" in host:
            raise ValueError(f"{text!r} is not a broker address: give HOST:PORT")
        if not port_text:
            return cls(host)
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"the broker port must be a number from 1 to 65535, not {port_text!r}")
        return cls(host, int(port_text))


DEFAULT_BROKER = BrokerAddress(*C.MQTT_BROKER_EU1)


# -------------------------------------------------------------------------------------------- steps


class CheckStep(StrEnum):
    CERTIFICATE = "certificate"
    RESOLVE = "resolve"
    TCP = "tcp"
    TLS = "tls"
    CLIENT_CERTIFICATE = "client-certificate"
    CONNECT = "connect"
    PUBLISH = "publish"


CHECK_TITLES: dict[CheckStep, str] = {
    CheckStep.CERTIFICATE: "Read the certificate, key and root CA",
    CheckStep.RESOLVE: "Resolve the broker's name",
    CheckStep.TCP: "Open a TCP connection",
    CheckStep.TLS: "TLS handshake, broker certificate checked",
    CheckStep.CLIENT_CERTIFICATE: "Client certificate accepted",
    CheckStep.CONNECT: "MQTT CONNECT",
    CheckStep.PUBLISH: "Publish a test time-series message",
}
CHECK_STEPS = tuple(CheckStep)


class Cause(StrEnum):
    """Why a check failed (``CheckResult.cause``)."""

    BAD_INPUT = "bad-input"  # a file that cannot be read
    PASSPHRASE_REQUIRED = "passphrase-required"  # an encrypted key and no passphrase
    KEY_MISMATCH = "key-mismatch"
    NO_CLIENT_ID = "no-client-id"
    NAME_NOT_RESOLVED = "name-not-resolved"
    PORT_CLOSED = "port-closed"
    NO_ANSWER = "no-answer"
    ROOT_CA_MISMATCH = "broker-root-ca-mismatch"
    HOSTNAME_MISMATCH = "hostname-mismatch"
    TLS_FAILED = "tls-failed"
    EXPIRED = "expired-certificate"
    NOT_YET_VALID = "certificate-not-yet-valid"
    UNTRUSTED_ISSUER = "not-issued-by-verified-ca"
    AGENT_CERTIFICATE_DELETED = "agent-certificate-deleted"
    CERTIFICATE_REFUSED = "certificate-refused"  # refused, and nothing we know says why
    WRONG_CLIENT_ID = "wrong-client-id"
    CLIENT_ID_IN_USE = "client-id-in-use"
    CONNECTION_CLOSED = "connection-closed"
    CONNECT_REFUSED = "connect-refused"
    PUBLISH_FAILED = "publish-failed"


@dataclass(frozen=True)
class CheckEvent:
    """One step starting (``RUNNING``) or ending; ``detail`` is plain words, ``elapsed`` seconds."""

    step: CheckStep
    state: StepState
    detail: str = ""
    elapsed: float = 0.0

    @property
    def title(self) -> str:
        return CHECK_TITLES[self.step]


CheckCallback = Callable[[CheckEvent], Awaitable[object] | object]


@dataclass(frozen=True)
class CheckResult:
    """How a check ended. ``accepted``: the broker accepted the connection (CONNACK 0). ``ok``: that, and
    the test message was acknowledged when one was asked for."""

    accepted: bool
    steps: tuple[CheckEvent, ...]
    broker: BrokerAddress
    cause: Cause | None = None
    message: str = ""
    client_id: str | None = None
    published: bool | None = None
    tls_version: str | None = None
    certificate: CertificateInfo | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.accepted and self.published is not False

    @property
    def failed_step(self) -> CheckStep | None:
        return next((e.step for e in self.steps if e.state is StepState.FAILED), None)


class CheckFailed(Exception):
    """A step failed: ``cause`` and a one-line ``message`` (no secrets)."""

    def __init__(self, cause: Cause, message: str) -> None:
        super().__init__(message)
        self.cause = cause
        self.message = message


# ------------------------------------------------------------------------------------- preparation


@dataclass
class Prepared:
    """Everything read from files: the agent's certificate, the TLS context, the client id and tenant."""

    certificate: x509.Certificate
    info: CertificateInfo
    context: ssl.SSLContext
    client_id: str
    tenant: str | None
    expected_client_id: str | None
    root_ca: Path | None
    notes: list[str] = field(default_factory=list)

    @property
    def topic(self) -> str:
        tenant = self.tenant or self.client_id.split("_", 1)[0]
        return C.MQTT_TS_TOPIC.format(tenant=tenant, client_id=self.client_id)


def _common_name(cert: x509.Certificate) -> str | None:
    from cryptography.x509.oid import NameOID

    values = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else None


def _leaf(certs: Sequence[x509.Certificate]) -> x509.Certificate:
    """The agent's certificate in a file that may hold its chain: the first one that is not a CA."""
    for cert in certs:
        try:
            if not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
                return cert
        except x509.ExtensionNotFound:
            return cert
        except ValueError:
            continue
    return certs[0]


async def _broker_now(api: ApiClient | None, now: dt.datetime | None) -> dt.datetime:
    """``now``, or the time by which the broker judges the certificate: the service's time as the client
    knows it with ``api`` (a token is fetched to measure the clock skew), else this computer's."""
    if now is not None:
        return now
    if api is None:
        return dt.datetime.now(dt.UTC)
    with contextlib.suppress(ApiError):  # the steps that need the service report it
        await api.tokens.get()
    return server_now(api)


def _validity_note(info: CertificateInfo, now: dt.datetime) -> tuple[Cause | None, str]:
    if info.not_after < now:
        return Cause.EXPIRED, f"the certificate expired on {info.not_after:%Y-%m-%d %H:%M} UTC"
    if info.not_before > now:
        return (
            Cause.NOT_YET_VALID,
            f"the certificate is not valid before {info.not_before:%Y-%m-%d %H:%M} UTC",
        )
    return None, info.validity_text()


def prepare(
    certificate: Path | str,
    key: Path | str,
    *,
    root_ca: Path | str | None = None,
    client_id: str | None = None,
    tenant: str | None = None,
    key_passphrase: str | None = None,
    now: dt.datetime | None = None,
    tls_max_version: ssl.TLSVersion | None = None,
) -> Prepared:
    """Read and cross-check the files and work out the client id; raises ``CheckFailed``. Blocking (file
    reads, key parsing): call from a thread."""
    cert_path, key_path = Path(certificate).expanduser(), Path(key).expanduser()
    try:
        certs = load_certificates(read_file(cert_path), what=f"the certificate file {cert_path}")
        leaf = _leaf(certs)
        private_key = load_private_key(read_file(key_path), key_passphrase, what=f"the key file {key_path}")
    except PassphraseRequiredError:
        raise CheckFailed(
            Cause.PASSPHRASE_REQUIRED, f"the key in {key_path} is encrypted: its passphrase is needed"
        ) from None
    except PkiError as exc:
        raise CheckFailed(Cause.BAD_INPUT, str(exc)) from None
    if not key_matches_certificate(private_key, leaf):
        raise CheckFailed(
            Cause.KEY_MISMATCH, f"the key in {key_path} does not belong to the certificate in {cert_path}"
        )
    moment = now or dt.datetime.now(dt.UTC)
    info = inspect_certificate(leaf, moment)
    ca_path = Path(root_ca).expanduser() if root_ca else None
    try:
        context = ssl.create_default_context()
        if ca_path is not None:
            roots = load_certificates(read_file(ca_path), what=f"the root CA file {ca_path}")
            context = ssl.create_default_context(cadata="".join(_pem(c) for c in roots))
        context.load_cert_chain(str(cert_path), str(key_path), password=key_passphrase)
    except PkiError as exc:
        raise CheckFailed(Cause.BAD_INPUT, str(exc)) from None
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise CheckFailed(Cause.BAD_INPUT, f"TLS cannot use these files: {_ssl_words(exc)}") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls_max_version is not None:
        context.maximum_version = tls_max_version  # e.g. TLS 1.2, as Siemens' sample agent pins it
    cn = _common_name(leaf)
    expected = C.MQTT_CLIENT_ID.format(tenant=tenant, common_name=cn) if tenant and cn else None
    chosen = (client_id or "").strip() or expected
    if not chosen:
        why = "the certificate has no common name" if not cn else "the tenant is not known"
        raise CheckFailed(
            Cause.NO_CLIENT_ID,
            f"no client id: {why}; give the client id (<tenant>_<certificate CN>) or a profile with a tenant",
        )
    if tenant is None and cn and chosen.endswith("_" + cn):
        tenant = chosen[: -len(cn) - 1] or None
    return Prepared(leaf, info, context, chosen, tenant, expected, ca_path)


def _pem(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.PEM).decode("ascii")


def _ssl_words(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return exc.reason or exc.strerror or str(exc)
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


# ---------------------------------------------------------------------------------- transport steps


def _resolve(broker: BrokerAddress) -> list[str]:
    try:
        infos = socket.getaddrinfo(broker.host, broker.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise CheckFailed(
            Cause.NAME_NOT_RESOLVED, f"the name {broker.host} does not resolve ({exc.strerror or exc})"
        ) from None
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in seen:
            seen.append(address)
    return seen


def _tcp(broker: BrokerAddress, timeout: float) -> socket.socket:
    try:
        return socket.create_connection((broker.host, broker.port), timeout=timeout)
    except ConnectionRefusedError:
        raise CheckFailed(
            Cause.PORT_CLOSED,
            f"nothing is listening on {broker} (port closed): is the broker or the simulator running, "
            "and is the port right?",
        ) from None
    except TimeoutError:
        raise CheckFailed(
            Cause.NO_ANSWER,
            f"no answer from {broker} within {timeout:g} s: a firewall may drop outgoing connections to "
            f"port {broker.port}",
        ) from None
    except OSError as exc:
        raise CheckFailed(Cause.PORT_CLOSED, f"cannot connect to {broker}: {exc.strerror or exc}") from None


# TLS alerts by which a broker refuses the client certificate (mqtt.md, "Error mapping table").
_CLIENT_CERT_ALERTS = (
    "UNKNOWN_CA",
    "BAD_CERTIFICATE",
    "EXPIRED",
    "REQUIRED",
    "HANDSHAKE_FAILURE",
    "UNSUPPORTED_CERTIFICATE",
    "CERTIFICATE_REVOKED",
    "ACCESS_DENIED",
)


class _ClientCertificateRefused(Exception):
    """The broker closed the connection or sent an alert after seeing the client certificate."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _tls(sock: socket.socket, prepared: Prepared, broker: BrokerAddress, timeout: float) -> ssl.SSLSocket:
    """The handshake; ``CheckFailed`` for the broker's certificate, ``_ClientCertificateRefused`` when the
    broker ended it after our certificate (TLS 1.2)."""
    sock.settimeout(timeout)
    try:
        return prepared.context.wrap_socket(sock, server_hostname=broker.host)
    except ssl.SSLCertVerificationError as exc:
        sock.close()
        code = exc.verify_code
        if code in (62, 64):  # host name or IP address mismatch
            raise CheckFailed(
                Cause.HOSTNAME_MISMATCH,
                f"the broker's certificate does not name {broker.host} ({exc.verify_message})",
            ) from None
        if code == 10:
            raise CheckFailed(Cause.TLS_FAILED, "the broker's certificate has expired") from None
        where = f"the root CA in {prepared.root_ca}" if prepared.root_ca else "this system's trusted roots"
        raise CheckFailed(
            Cause.ROOT_CA_MISMATCH,
            f"broker root CA mismatch: the broker's certificate is not signed by {where} "
            f"({exc.verify_message}); use the Broker Root CA of this broker",
        ) from None
    except (ssl.SSLEOFError, ConnectionResetError, BrokenPipeError):
        sock.close()
        raise _ClientCertificateRefused("the broker closed the connection during the handshake") from None
    except ssl.SSLError as exc:
        sock.close()
        reason = exc.reason or ""
        if "ALERT" in reason and any(
            k in reason
            for k in (
                "UNKNOWN_CA",
                "BAD_CERTIFICATE",
                "EXPIRED",
                "REQUIRED",
                "HANDSHAKE_FAILURE",
                "UNSUPPORTED_CERTIFICATE",
                "CERTIFICATE_REVOKED",
                "ACCESS_DENIED",
            )
        ):
            raise _ClientCertificateRefused(f"the broker sent the alert {reason}") from None
        if reason in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG"):
            raise CheckFailed(
                Cause.TLS_FAILED, f"{broker} does not answer with TLS (a plain MQTT port such as 1883?)"
            ) from None
        raise CheckFailed(Cause.TLS_FAILED, f"the TLS handshake failed: {reason or exc}") from None
    except TimeoutError:
        sock.close()
        raise CheckFailed(Cause.NO_ANSWER, f"no TLS handshake with {broker} within {timeout:g} s") from None
    except OSError as exc:
        sock.close()
        raise CheckFailed(Cause.TLS_FAILED, f"the TLS handshake failed: {exc.strerror or exc}") from None


def _peek(tls: ssl.SSLSocket, seconds: float) -> None:
    """With TLS 1.3 the broker judges the client certificate after our side of the handshake: a silence
    of ``seconds`` means it kept the connection. Closes ``tls``."""
    try:
        tls.settimeout(seconds)
        data = tls.recv(1)
        if not data:
            raise _ClientCertificateRefused("the broker closed the connection after the handshake")
    except TimeoutError:
        return
    except ssl.SSLError as exc:
        if isinstance(exc, ssl.SSLEOFError):
            raise _ClientCertificateRefused("the broker closed the connection after the handshake") from None
        raise _ClientCertificateRefused(f"the broker sent the alert {exc.reason or exc}") from None
    except (ConnectionResetError, BrokenPipeError):
        raise _ClientCertificateRefused("the broker reset the connection after the handshake") from None
    finally:
        try:
            tls.close()
        except OSError:
            pass


# ------------------------------------------------------------------------------------------ causes


async def _issuer_facts(api: ApiClient | None, cert: x509.Certificate) -> tuple[Cause | None, str]:
    """What the tenant says about the certificate: (cause, sentence), or (None, "") when it cannot tell."""
    if api is None:
        return None, ""
    try:
        agents = await api.mqtt.list_agent_certs()
        cas = await api.mqtt.list_ca()
    except (ApiError, OSError):
        return None, ""
    fingerprint = fingerprint_sha256(cert)
    for agent in agents:
        if agent.certificate_pem and _fingerprint_of(agent.certificate_pem) == fingerprint:
            return None, f"it is the agent certificate '{agent.name}' of the tenant"
    for ca in cas:
        if not ca.certificate_pem:
            continue
        try:
            ca_cert = load_certificate(ca.certificate_pem, what="the tenant's CA certificate")
            cert.verify_directly_issued_by(ca_cert)
        except (PkiError, ValueError, TypeError, InvalidSignature):
            continue
        if ca.verified:
            return None, f"its CA '{ca.name}' is registered and verified"
        return (
            Cause.UNTRUSTED_ISSUER,
            f"its CA '{ca.name}' ({ca.id}) is uploaded but not verified: verify it first "
            f"(ihub certs verify {ca.id} --ca-key FILE)",
        )
    issuer = cert.issuer.rfc4514_string() or "(no issuer name)"
    sibling = next(
        (a for a in agents if a.certificate_pem and _issuer_of(a.certificate_pem) == cert.issuer), None
    )
    if sibling is not None:
        return (
            Cause.AGENT_CERTIFICATE_DELETED,
            f"it is issued by the platform's agent CA (as the agent certificate '{sibling.name}' is), but it "
            "is no longer one of the tenant's agent certificates: it was deleted",
        )
    return (
        Cause.UNTRUSTED_ISSUER,
        f"its issuer '{issuer}' is not one of the tenant's CA certificates (never uploaded, or deleted), "
        "and it is not one of the tenant's agent certificates",
    )


def _issuer_of(pem: str) -> x509.Name | None:
    try:
        return load_certificate(pem).issuer
    except PkiError:
        return None


def _fingerprint_of(pem: str) -> str | None:
    try:
        return fingerprint_sha256(load_certificate(pem))
    except PkiError:
        return None


async def _refusal(
    prepared: Prepared, api: ApiClient | None, validity: Cause | None, validity_text: str, how: str
) -> CheckFailed:
    """The broker refused the certificate (TLS or CONNACK 5): the most precise cause we can name."""
    if validity is not None:
        return CheckFailed(validity, f"{how}: {validity_text}")
    cause, fact = await _issuer_facts(api, prepared.certificate)
    if cause is not None:
        return CheckFailed(cause, f"{how}: {fact}")
    if fact:
        return CheckFailed(Cause.CERTIFICATE_REFUSED, f"{how}, although {fact}")
    return CheckFailed(
        Cause.UNTRUSTED_ISSUER,
        f"{how}: the certificate is not issued by a CA certificate verified for the tenant (not uploaded, "
        "not verified yet, or deleted since), nor is it a current agent certificate",
    )


def _client_id_failure(prepared: Prepared) -> CheckFailed:
    expected = prepared.expected_client_id
    if expected and prepared.client_id != expected:
        return CheckFailed(
            Cause.WRONG_CLIENT_ID,
            f"wrong client id: the broker expects {expected} (<tenant>_<certificate CN>), not "
            f"{prepared.client_id}",
        )
    if expected:
        return CheckFailed(
            Cause.CLIENT_ID_IN_USE,
            f"the client id {prepared.client_id} is already connected: one connection per client id "
            "(is the agent running elsewhere?)",
        )
    cn = prepared.info.common_name or "?"
    return CheckFailed(
        Cause.WRONG_CLIENT_ID,
        f"the broker rejected the client id {prepared.client_id}: it must be <tenant>_{cn}, and not "
        "connected already",
    )


# --------------------------------------------------------------------------------------- paho-mqtt


class _Session:
    """A paho-mqtt connection, blocking calls (run them in a thread)."""

    def __init__(self, prepared: Prepared, broker: BrokerAddress, *, timeout: float) -> None:
        import paho.mqtt.client as mqtt

        self._mqtt = mqtt
        self.broker = broker
        self.timeout = timeout
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=prepared.client_id,
            protocol=mqtt.MQTTv311,
            clean_session=True,
            # A refused or dropped connection is reported, never retried behind our back (and loop_stop
            # would wait out paho's reconnect delay).
            reconnect_on_failure=False,
        )
        self.client.tls_set_context(prepared.context)
        self.client.connect_timeout = timeout
        self.connack: int | None = None
        self.connack_words = ""
        self.closed = False
        self._event = threading.Event()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self._started = False

    def _on_connect(self, _client: Any, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        value = int(getattr(reason, "value", reason))
        self.connack = _V5_TO_V311.get(value, value)
        self.connack_words = str(reason)
        self._event.set()

    def _on_disconnect(self, _client: Any, _userdata: Any, _flags: Any, _reason: Any, _props: Any) -> None:
        self.closed = True
        self._event.set()

    def connect(self) -> None:
        """CONNECT and wait for CONNACK; raises ``CheckFailed`` for transport errors and silence (the
        caller reads ``connack`` and ``closed``)."""
        try:
            self.client.connect(self.broker.host, self.broker.port, keepalive=KEEPALIVE)
        except (ssl.SSLError, OSError) as exc:
            self._drop_socket()
            raise CheckFailed(
                Cause.CONNECTION_CLOSED, f"the MQTT connection failed: {_ssl_words(exc)}"
            ) from None
        self.client.loop_start()
        self._started = True
        if not self._event.wait(self.timeout):
            raise CheckFailed(Cause.NO_ANSWER, f"no CONNACK from {self.broker} within {self.timeout:g} s")

    def publish(self, topic: str, payload: bytes, timeout: float) -> bool:
        info = self.client.publish(topic, payload, qos=1)
        if info.rc != self._mqtt.MQTT_ERR_SUCCESS:
            return False
        try:
            info.wait_for_publish(timeout)
        except (RuntimeError, ValueError):
            return False
        return info.is_published()

    def close(self) -> None:
        try:
            self.client.disconnect()
        finally:
            if self._started:
                self.client.loop_stop()
            self._drop_socket()

    def _drop_socket(self) -> None:
        # paho leaves the socket open when connect() fails (mqtt.md P6).
        sock = self.client.socket()
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass


# --------------------------------------------------------------------------------------- the check


class _Reporter:
    def __init__(self, callback: CheckCallback | None) -> None:
        self.callback = callback
        self.final: dict[CheckStep, CheckEvent] = {}
        self.started: dict[CheckStep, float] = {}

    async def _emit(self, event: CheckEvent) -> None:
        if self.callback is None:
            return
        result = self.callback(event)
        if inspect.isawaitable(result):
            await result

    async def start(self, step: CheckStep, detail: str = "") -> None:
        self.started[step] = time.perf_counter()
        await self._emit(CheckEvent(step, StepState.RUNNING, detail))

    async def end(self, step: CheckStep, state: StepState, detail: str = "") -> None:
        began = self.started.get(step)
        event = CheckEvent(step, state, detail, time.perf_counter() - began if began is not None else 0.0)
        self.final[step] = event
        await self._emit(event)

    def events(self) -> tuple[CheckEvent, ...]:
        return tuple(self.final[s] for s in CHECK_STEPS if s in self.final)


@dataclass
class _Timeouts:
    connect: float = CONNECT_TIMEOUT
    tls: float = TLS_TIMEOUT
    peek: float = PEEK_SECONDS
    connack: float = CONNACK_TIMEOUT
    puback: float = PUBACK_TIMEOUT


async def _transport(
    prepared: Prepared,
    broker: BrokerAddress,
    api: ApiClient | None,
    report: _Reporter,
    timeouts: _Timeouts,
    validity: Cause | None,
    validity_text: str,
) -> str:
    """Steps resolve, tcp, tls, client-certificate; returns the TLS version. Raises ``CheckFailed`` (the
    failed step already reported)."""
    step = CheckStep.RESOLVE
    try:
        await report.start(step, broker.host)
        addresses = await asyncio.to_thread(_resolve, broker)
        await report.end(step, StepState.OK, ", ".join(addresses[:4]))

        step = CheckStep.TCP
        await report.start(step, str(broker))
        sock = await asyncio.to_thread(_tcp, broker, timeouts.connect)
        peer = sock.getpeername()
        await report.end(step, StepState.OK, f"connected to {peer[0]} port {peer[1]}")

        step = CheckStep.TLS
        await report.start(step, f"root CA: {prepared.root_ca or 'the system trust store'}")
        try:
            tls = await asyncio.to_thread(_tls, sock, prepared, broker, timeouts.tls)
        except _ClientCertificateRefused as refused:
            await report.end(
                step, StepState.OK, f"the broker's certificate is trusted and names {broker.host}"
            )
            step = CheckStep.CLIENT_CERTIFICATE
            await report.start(step)
            raise await _refusal(
                prepared,
                api,
                validity,
                validity_text,
                f"the broker refused the client certificate ({refused.detail})",
            ) from None
        version = tls.version() or "TLS"
        await report.end(
            step, StepState.OK, f"{version}; the broker's certificate is trusted and names {broker.host}"
        )

        step = CheckStep.CLIENT_CERTIFICATE
        await report.start(step)
        try:
            await asyncio.to_thread(_peek, tls, timeouts.peek)
        except _ClientCertificateRefused as refused:
            raise await _refusal(
                prepared,
                api,
                validity,
                validity_text,
                f"the broker refused the client certificate ({refused.detail})",
            ) from None
        await report.end(step, StepState.OK, "the broker kept the connection")
        return version
    except CheckFailed as failed:
        await report.end(step, StepState.FAILED, failed.message)
        raise


async def check_connection(
    certificate: Path | str,
    key: Path | str,
    *,
    broker: BrokerAddress = DEFAULT_BROKER,
    root_ca: Path | str | None = None,
    client_id: str | None = None,
    tenant: str | None = None,
    publish: bool = False,
    key_passphrase: str | None = None,
    api: ApiClient | None = None,
    on_step: CheckCallback | None = None,
    now: dt.datetime | None = None,
    connect_timeout: float = CONNECT_TIMEOUT,
    peek_seconds: float = PEEK_SECONDS,
    connack_timeout: float = CONNACK_TIMEOUT,
    tls_max_version: ssl.TLSVersion | None = None,
) -> CheckResult:
    """Check that the broker accepts ``certificate`` (with ``key``) as an agent (module docstring).

    ``tenant`` derives the client id ``<tenant>_<CN>`` (unless ``client_id`` is given) and tells a wrong
    client id from one already connected; with ``api`` the tenant itself is asked (its CA and agent
    certificates) to name causes exactly. Never raises for a failed step: the result says what happened.
    """
    report = _Reporter(on_step)
    timeouts = _Timeouts(connect=connect_timeout, peek=peek_seconds, connack=connack_timeout)
    prepared: Prepared | None = None

    def result(accepted: bool, failure: CheckFailed | None = None, **extra: Any) -> CheckResult:
        return CheckResult(
            accepted=accepted,
            steps=report.events(),
            broker=broker,
            cause=failure.cause if failure else None,
            message=failure.message if failure else extra.pop("message", ""),
            client_id=prepared.client_id if prepared else None,
            certificate=prepared.info if prepared else None,
            **extra,
        )

    # 1. files --------------------------------------------------------------------------------------
    await report.start(CheckStep.CERTIFICATE)
    try:
        prepared, now = await _prepare_for(
            api,
            certificate,
            key,
            root_ca=root_ca,
            client_id=client_id,
            tenant=tenant,
            key_passphrase=key_passphrase,
            now=now,
            tls_max_version=tls_max_version,
        )
    except CheckFailed as failed:
        await report.end(CheckStep.CERTIFICATE, StepState.FAILED, failed.message)
        return result(False, failed)
    validity, validity_text = _validity_note(prepared.info, now)
    summary = f"CN={prepared.info.common_name or '-'}, client id {prepared.client_id}; {validity_text}"
    await report.end(
        CheckStep.CERTIFICATE,
        StepState.WARN if validity else StepState.OK,
        summary + ("; asking the broker anyway" if validity else ""),
    )

    # 2-5. transport ----------------------------------------------------------------------------------
    try:
        version = await _transport(prepared, broker, api, report, timeouts, validity, validity_text)
    except CheckFailed as failed:
        return result(False, failed)

    # 6. CONNECT ------------------------------------------------------------------------------------
    await report.start(CheckStep.CONNECT, f"client id {prepared.client_id}, MQTT 3.1.1")
    session = _Session(prepared, broker, timeout=timeouts.connack)
    try:
        try:
            await asyncio.to_thread(session.connect)
            failure = await _connack_failure(session, prepared, api, validity, validity_text)
        except CheckFailed as failed:
            failure = failed
        if failure is not None:
            await report.end(CheckStep.CONNECT, StepState.FAILED, failure.message)
            return result(False, failure, tls_version=version)
        await report.end(CheckStep.CONNECT, StepState.OK, "CONNACK 0: connection accepted")

        # 7. publish ----------------------------------------------------------------------------------
        if not publish:
            return result(
                True, tls_version=version, message=f"{broker} accepts the certificate as {prepared.client_id}"
            )
        await report.start(CheckStep.PUBLISH, prepared.topic)
        payload = timeseries_payload({C.MQTT_CHECK_DATA_POINT: "1"}, now or dt.datetime.now(dt.UTC))
        acknowledged = await asyncio.to_thread(session.publish, prepared.topic, payload, PUBACK_TIMEOUT)
        if not acknowledged:
            failure = CheckFailed(
                Cause.PUBLISH_FAILED,
                f"the broker did not acknowledge the test message within {PUBACK_TIMEOUT:g} s",
            )
            await report.end(CheckStep.PUBLISH, StepState.FAILED, failure.message)
            return result(True, failure, tls_version=version, published=False)
        await report.end(CheckStep.PUBLISH, StepState.OK, f"{C.MQTT_CHECK_DATA_POINT}=1 acknowledged (QoS 1)")
        return result(
            True,
            tls_version=version,
            published=True,
            message=f"{broker} accepts the certificate as {prepared.client_id} and took a test message",
        )
    finally:
        await asyncio.to_thread(session.close)


async def _connack_failure(
    session: _Session, prepared: Prepared, api: ApiClient | None, validity: Cause | None, validity_text: str
) -> CheckFailed | None:
    rc = session.connack
    if rc == 0:
        return None
    if rc is None:
        # Closed without CONNACK: a broker that judges certificates after the handshake (AWS IoT does).
        return await _refusal(
            prepared,
            api,
            validity,
            validity_text,
            "the broker closed the connection without answering CONNECT",
        )
    if rc == C.MQTT_CONNACK_IDENTIFIER_REJECTED:
        return _client_id_failure(prepared)
    if rc == C.MQTT_CONNACK_NOT_AUTHORIZED:
        return await _refusal(
            prepared, api, validity, validity_text, "the broker refused: not authorized (CONNACK 5)"
        )
    words = _CONNACK_WORDS.get(rc, session.connack_words or "unknown code")
    return CheckFailed(Cause.CONNECT_REFUSED, f"the broker refused the connection: CONNACK {rc} ({words})")


async def _prepare_for(
    api: ApiClient | None,
    certificate: Path | str,
    key: Path | str,
    *,
    root_ca: Path | str | None,
    client_id: str | None,
    tenant: str | None,
    key_passphrase: str | None,
    now: dt.datetime | None = None,
    tls_max_version: ssl.TLSVersion | None = None,
) -> tuple[Prepared, dt.datetime]:
    """``prepare`` as an agent of the profile's tenant: the tenant asked when not given, validity judged at
    the broker's now, and an agent certificate's own client id when none was given. Returns the prepared
    files and that now; raises ``CheckFailed``."""
    if api is not None and tenant is None:
        tenant = await _tenant(api)
    moment = await _broker_now(api, now)
    prepared = await asyncio.to_thread(
        prepare,
        certificate,
        key,
        root_ca=root_ca,
        client_id=client_id,
        tenant=tenant,
        key_passphrase=key_passphrase,
        now=moment,
        tls_max_version=tls_max_version,
    )
    if api is not None and not client_id:
        agent_id = await _agent_client_id(api, prepared.certificate)
        if agent_id:
            prepared.client_id = prepared.expected_client_id = agent_id
    return prepared, moment


async def _tenant(api: ApiClient) -> str | None:
    try:
        token = await api.tokens.get()
    except (ApiError, OSError):
        return None
    return token.tenant or None


async def _agent_client_id(api: ApiClient, cert: x509.Certificate) -> str | None:
    """The ``clientId`` the tenant gave this auto-generated agent certificate, if it is one."""
    try:
        agents = await api.mqtt.list_agent_certs()
    except (ApiError, OSError):
        return None
    fingerprint = fingerprint_sha256(cert)
    for agent in agents:
        if agent.certificate_pem and _fingerprint_of(agent.certificate_pem) == fingerprint:
            return agent.client_id or agent.agent_name
    return None


# ------------------------------------------------------------------------------------------ publish


def timeseries_payload(
    values: Mapping[str, str], timestamp: dt.datetime, quality: str = C.MQTT_TS_GOOD_QUALITY
) -> bytes:
    """An ``o/mc_v3/ts`` message (reference 5.2): one timestamp, values and quality codes as strings."""
    stamp = (
        timestamp.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{timestamp.microsecond // 1000:03d}Z"
    )
    body = {
        C.MQTT_TS_KEY: [
            {
                C.MQTT_TS_TIMESTAMP: stamp,
                C.MQTT_TS_VALUES: [
                    {C.MQTT_TS_DATA_POINT: name, C.MQTT_TS_VALUE: str(value), C.MQTT_TS_QUALITY: quality}
                    for name, value in values.items()
                ],
            }
        ]
    }
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class DataPoint:
    """``VAR=VALUE`` (a fixed value, sent as written) or ``VAR=LOW..HIGH`` (a random number each time)."""

    name: str
    value: str | None = None
    low: float | None = None
    high: float | None = None

    def sample(self, rng: random.Random) -> str:
        if self.value is not None:
            return self.value
        assert self.low is not None and self.high is not None
        number = rng.uniform(self.low, self.high)
        return f"{number:.3f}".rstrip("0").rstrip(".")

    @classmethod
    def parse(cls, text: str) -> DataPoint:
        """One ``VAR=VALUE`` argument; ValueError in plain words."""
        name, sep, value = text.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"{text!r} is not VAR=VALUE (for example temperature=21.5)")
        if any(c.isspace() or not c.isprintable() for c in name) or len(name) > 128:
            raise ValueError(f"the data point id {name[:40]!r} must be printable, without spaces")
        value = value.strip()
        if ".." in value:
            lo_text, _, hi_text = value.partition("..")
            try:
                low, high = float(lo_text), float(hi_text)
            except ValueError:
                raise ValueError(f"{text!r}: a range is LOW..HIGH with two numbers, e.g. 18..24") from None
            if low > high:
                low, high = high, low
            return cls(name, low=low, high=high)
        if not value:
            raise ValueError(f"{text!r} has no value")
        return cls(name, value=value)


def parse_data_points(items: Sequence[str]) -> list[DataPoint]:
    """``VAR=VALUE`` arguments, each data point once; ValueError naming the first bad one."""
    points = [DataPoint.parse(item) for item in items]
    if not points:
        raise ValueError("give at least one VAR=VALUE, for example temperature=21.5")
    names = [p.name for p in points]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"each data point once: {', '.join(twice)} is given more than once")
    return points


@dataclass(frozen=True)
class PublishedMessage:
    """One message sent and acknowledged: its number (from 1), timestamp, values and topic."""

    number: int
    timestamp: dt.datetime
    values: dict[str, str]
    topic: str


MessageCallback = Callable[[PublishedMessage], Awaitable[object] | object]


@dataclass(frozen=True)
class PublishSession:
    """Where messages go: the client id and the topic."""

    client_id: str
    topic: str
    broker: BrokerAddress


async def publish_timeseries(
    certificate: Path | str,
    key: Path | str,
    points: Sequence[DataPoint],
    *,
    broker: BrokerAddress = DEFAULT_BROKER,
    root_ca: Path | str | None = None,
    client_id: str | None = None,
    tenant: str | None = None,
    every: float | None = None,
    count: int | None = None,
    key_passphrase: str | None = None,
    api: ApiClient | None = None,
    on_connected: Callable[[PublishSession], object] | None = None,
    on_message: MessageCallback | None = None,
    seed: int | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    peek_seconds: float = PEEK_SECONDS,
) -> int:
    """Connect as the agent and publish ``points``: once, or every ``every`` seconds (``count`` messages,
    or until cancelled). Returns the number of messages acknowledged. Raises ``CheckFailed`` with the plain
    cause when the broker cannot be reached or refuses, or a message is not acknowledged."""
    if every is not None and every <= 0:
        raise ValueError("--every must be more than 0 seconds")
    if count is not None and count < 1:
        raise ValueError("the count must be at least 1")
    if every is None:
        count = 1
    clock = clock or (lambda: dt.datetime.now(dt.UTC))
    prepared, moment = await _prepare_for(
        api,
        certificate,
        key,
        root_ca=root_ca,
        client_id=client_id,
        tenant=tenant,
        key_passphrase=key_passphrase,
    )
    validity, validity_text = _validity_note(prepared.info, moment)
    timeouts = _Timeouts(peek=peek_seconds)
    await _transport(prepared, broker, api, _Reporter(None), timeouts, validity, validity_text)
    session = _Session(prepared, broker, timeout=CONNACK_TIMEOUT)
    sent = 0
    rng = random.Random(seed)
    try:
        await asyncio.to_thread(session.connect)
        failure = await _connack_failure(session, prepared, api, validity, validity_text)
        if failure is not None:
            raise failure
        if on_connected is not None:
            on_connected(PublishSession(prepared.client_id, prepared.topic, broker))
        while count is None or sent < count:
            started = time.monotonic()
            moment = clock()
            values = {p.name: p.sample(rng) for p in points}
            payload = timeseries_payload(values, moment)
            ok = await asyncio.to_thread(session.publish, prepared.topic, payload, PUBACK_TIMEOUT)
            if not ok:
                raise CheckFailed(
                    Cause.PUBLISH_FAILED,
                    f"the broker did not acknowledge message {sent + 1} within {PUBACK_TIMEOUT:g} s"
                    + (" (the connection was closed)" if session.closed else ""),
                )
            sent += 1
            if on_message is not None:
                outcome = on_message(PublishedMessage(sent, moment, values, prepared.topic))
                if inspect.isawaitable(outcome):
                    await outcome
            if count is not None and sent >= count:
                break
            assert every is not None
            await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))
    finally:
        await asyncio.to_thread(session.close)
    return sent


__all__ = [
    "CHECK_STEPS",
    "CHECK_TITLES",
    "DEFAULT_BROKER",
    "BrokerAddress",
    "Cause",
    "CheckEvent",
    "CheckFailed",
    "CheckResult",
    "CheckStep",
    "DataPoint",
    "PublishSession",
    "PublishedMessage",
    "check_connection",
    "parse_data_points",
    "prepare",
    "publish_timeseries",
    "timeseries_payload",
]
