"""The simulator's MindConnect MQTT broker: MQTT 3.1.1 over TLS with client certificates, on loopback.

amqtt runs in-process with an ``external`` listener (``../shared/reference/mqtt.md``, "Broker
in-process"); this module owns the socket, the TLS layer and a gate in front of amqtt:

1. **TLS.** Our own ``asyncio`` server upgrades each connection with ``start_tls``. A client certificate is
   required, and the trust store is built per handshake (``sni_callback`` swaps in a context) from the
   tenant's CA certificates that are VERIFIED at that moment plus the agent CA that issues
   auto-generated agent certificates. The server certificate comes from the simulator's *broker root CA*
   (EC P-256, made at start), written to ``root_ca_file`` for clients, as the real Broker Root CA is
   downloaded from Asset Manager. It names ``localhost``, ``127.0.0.1`` and ``::1``.
2. **Gate.** The CONNECT packet is read (with amqtt's packet classes) before amqtt sees it, and
   ``tui.sim.agents.authorize`` decides again on every CONNECT (a resumed TLS session skips the
   handshake's check; mqtt.md P7). A second connection with a connected client id is refused (P2).
   Refusals are answered with amqtt's CONNACK packet (2 or 5) and logged with the reason.
3. **amqtt** then gets the connection, the CONNECT replayed, and serves the MQTT session. A plugin hands
   every PUBLISH to ``tui.sim.agents.handle_message`` (time series into the tenant's state).

The contract (client id, topics, data-point mapping) is in ``tui.sim.agents``. Every refusal and every
dropped message is logged on ``tui.sim.mqtt``; nothing a client sends stops the broker.

``SimBroker(app).start()`` serves in a daemon thread with its own event loop and returns once it listens;
``stop()`` ends it. The tenant state is shared with the HTTP side under ``TenantState.lock``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import logging
import os
import shutil
import ssl
import tempfile
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tui.sim.agents import Refusal, authorize, ensure_agent, handle_message, trusted_issuers

log = logging.getLogger("tui.sim.mqtt")

HANDSHAKE_TIMEOUT = 10.0
CONNECT_TIMEOUT = 10.0
# How long a CONNECT waits for a twin that is just disconnecting to free its client id (mqtt.md: ~6 ms).
TWIN_GRACE = 0.5
MAX_CONNECT_BYTES = 64 * 1024
ROOT_CA_NAME = "ihub-sim-broker-root-ca.pem"
LISTENER = "default"
CONNECT_PACKET_TYPE = 1


class SimBrokerError(Exception):
    """The broker could not start (port in use, bad host, an unwritable root CA file)."""


# ------------------------------------------------------------------------------------ certificates


@dataclass(frozen=True)
class BrokerCertificates:
    """The broker root CA and the server certificate it issued (PEM); the keys stay in memory."""

    root_pem: bytes
    server_chain_pem: bytes
    server_key_pem: bytes

    @classmethod
    def generate(cls, tenant: str, host: str, now: dt.datetime | None = None) -> BrokerCertificates:
        now = now or dt.datetime.now(dt.UTC)
        root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ihub simulator"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"ihub simulator MQTT broker root CA ({tenant})"),
            ]
        )
        usage = dict(
            content_commitment=False,
            data_encipherment=False,
            encipher_only=False,
            decipher_only=False,
        )
        root = (
            x509.CertificateBuilder()
            .subject_name(root_name)
            .issuer_name(root_name)
            .public_key(root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    key_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    **usage,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256())
        )
        server_key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = [
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]
        try:
            address = ipaddress.ip_address(host)
            if x509.IPAddress(address) not in names:
                names.append(x509.IPAddress(address))
        except ValueError:
            if host != "localhost":
                names.append(x509.DNSName(host))
        server = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(root_name)
            .public_key(server_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_encipherment=False,
                    key_agreement=True,
                    key_cert_sign=False,
                    crl_sign=False,
                    **usage,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False
            )
            .sign(root_key, hashes.SHA256())
        )
        pem = serialization.Encoding.PEM
        return cls(
            root_pem=root.public_bytes(pem),
            server_chain_pem=server.public_bytes(pem) + root.public_bytes(pem),
            server_key_pem=server_key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write atomically (temporary file, fsync, rename) with ``mode``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


# ------------------------------------------------------------------------------ reasons in words


def _handshake_reason(exc: BaseException, tenant: str) -> str:
    """Why a TLS handshake failed, in plain words, for the log."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = exc.verify_code
        if code == 10:
            return "the client certificate has expired"
        if code == 9:
            return "the client certificate is not valid yet"
        if code in (2, 19, 20, 21):
            return (
                f"the client certificate is not issued by a verified CA certificate of tenant '{tenant}' "
                "nor by the agent CA (not uploaded, not verified, or deleted)"
            )
        if code == 18:
            return "the client certificate is self-signed; it must be issued by a verified CA certificate"
        return f"the client certificate was not accepted: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or ""
        if reason == "PEER_DID_NOT_RETURN_A_CERTIFICATE":
            return "the client sent no certificate (a client certificate is required)"
        if reason in ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "HTTPS_PROXY_REQUEST"):
            return "the client did not speak TLS (plain MQTT or HTTP on the TLS port?)"
        if reason in ("UNSUPPORTED_PROTOCOL", "NO_SHARED_CIPHER", "NO_PROTOCOLS_AVAILABLE"):
            return f"no common TLS version or cipher ({reason})"
        if "ALERT" in reason:
            return f"the client ended the handshake ({reason}): it does not trust this broker's certificate?"
        return f"TLS error {reason or exc}"
    if isinstance(exc, TimeoutError):
        return f"no TLS handshake within {HANDSHAKE_TIMEOUT:.0f} s"
    return "the client closed the connection during the TLS handshake"


# --------------------------------------------------------------------------------------- amqtt glue


def _amqtt() -> Any:
    """amqtt's classes, imported when a broker starts (the rest of the simulator runs without them)."""
    import amqtt.adapters as adapters
    import amqtt.broker as broker
    import amqtt.mqtt.connack as connack
    import amqtt.mqtt.connect as connect
    import amqtt.mqtt.packet as packet

    return adapters, broker, connack, connect, packet


def _forwarder_class() -> type:
    from amqtt.plugins.base import BaseAuthPlugin

    class Forwarder(BaseAuthPlugin):
        """amqtt plugin: every client the gate let through is authenticated; every PUBLISH goes to the
        simulator (time series). Exceptions are logged here: amqtt runs hooks as fire-and-forget tasks."""

        @dataclass
        class Config:
            broker: Any = None

        async def authenticate(self, *, session: Any) -> bool:
            return True

        async def on_broker_message_received(self, *, client_id: str, message: Any) -> None:
            owner: SimBroker | None = self.config.broker
            if owner is None or message is None:
                return
            try:
                owner.received(client_id, str(message.topic), bytes(message.data or b""))
            except Exception:  # noqa: BLE001 - a bad message must never stop the broker
                log.exception("%s: message on %s could not be processed", client_id, message.topic)

    return Forwarder


#: The plugin class amqtt loads by its dotted path ``tui.sim.broker.Forwarder`` (made on first use so
#: that importing this module does not import amqtt).
def __getattr__(name: str) -> Any:
    if name == "Forwarder":
        cls = _forwarder_class()
        globals()["Forwarder"] = cls
        return cls
    raise AttributeError(name)


class _Recorder:
    """A reader adapter that keeps the bytes read (the CONNECT packet, to replay it to amqtt)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader
        self.data = bytearray()

    async def read(self, n: int = -1) -> bytes:
        chunk = await self.reader.readexactly(n)
        self.data += chunk
        return chunk

    def feed_eof(self) -> None:
        self.reader.feed_eof()


def _replay_adapter(adapters: Any, saved: bytes, reader: asyncio.StreamReader) -> Any:
    class Replay(adapters.StreamReaderAdapter):
        """amqtt's stream reader, returning the saved CONNECT bytes first (amqtt reads exact sizes)."""

        def __init__(self) -> None:
            super().__init__(reader)
            self._saved = bytearray(saved)

        async def read(self, n: int = -1) -> bytes:
            if not self._saved:
                return await super().read(n)
            if n == -1:
                out, self._saved = bytes(self._saved), bytearray()
                return out + await super().read(-1)
            out = bytes(self._saved[:n])
            del self._saved[:n]
            if len(out) < n:
                out += await reader.readexactly(n - len(out))
            return out

    return Replay()


# -------------------------------------------------------------------------------------------- broker


class SimBroker:
    """The simulator's MQTT broker for the simulator app ``app`` (its ``state.tenant`` and ``config``)."""

    def __init__(
        self, app: Any, host: str = "127.0.0.1", port: int = 0, root_ca_file: Path | str | None = None
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.state = app.state.tenant
        self.config = app.state.config
        self._root_ca_file = Path(root_ca_file).expanduser() if root_ca_file else None
        self._private: Path | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        # Connected client ids; each event is set when that client's session ends.
        self._online: dict[str, asyncio.Event] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        # Every connection's writer, to abort what is still open when the broker stops.
        self._writers: weakref.WeakSet[asyncio.StreamWriter] = weakref.WeakSet()
        self._contexts: tuple[tuple[str, ...], ssl.SSLContext] | None = None
        self._files: tuple[Path, Path] | None = None
        self.certificates: BrokerCertificates | None = None
        self._amqtt_broker: Any = None

    # -- addresses -----------------------------------------------------------------------------

    @property
    def address(self) -> str:
        """``127.0.0.1:8883`` (``[::1]:8883`` for IPv6)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"mqtts://{self.address}"

    @property
    def root_ca_file(self) -> Path:
        """Where the broker root CA (PEM) was written: what a client passes as its root CA."""
        if self._root_ca_file is None:
            raise SimBrokerError("the broker has not started")
        return self._root_ca_file

    @property
    def online(self) -> frozenset[str]:
        """Client ids connected right now."""
        return frozenset(self._online)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- life cycle ----------------------------------------------------------------------------

    def start(self, timeout: float = 15.0) -> None:
        """Make the certificates, write the root CA, listen; returns once clients can connect."""
        if self._thread is not None:
            return
        self.certificates = BrokerCertificates.generate(self.state.tenant, self.host)
        self._private = Path(tempfile.mkdtemp(prefix="ihub-sim-mqtt-"))
        try:
            chain, key = self._private / "server-chain.pem", self._private / "server.key"
            _write(chain, self.certificates.server_chain_pem, 0o600)
            _write(key, self.certificates.server_key_pem, 0o600)
            self._files = (chain, key)
            if self._root_ca_file is None:
                self._root_ca_file = self._private / ROOT_CA_NAME
            _write(self._root_ca_file, self.certificates.root_pem, 0o644)
        except OSError as exc:
            self._cleanup()
            raise SimBrokerError(
                f"cannot write the broker root CA to {self._root_ca_file}: {exc.strerror or exc}"
            ) from None
        self._thread = threading.Thread(target=self._run, name="ihub-sim-mqtt", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or self._error is not None:
            error = self._error
            self.stop()
            if isinstance(error, SimBrokerError):
                raise error
            raise SimBrokerError(f"the MQTT broker did not start: {error or 'timeout'}")

    def stop(self, timeout: float = 5.0) -> None:
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None
        self._cleanup()

    def _cleanup(self) -> None:
        if self._private is not None:
            shutil.rmtree(self._private, ignore_errors=True)
            self._private = None

    def __enter__(self) -> SimBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        adapters, broker_mod, _connack, _connect, _packet = _amqtt()
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.ERROR)  # its per-connection lines are not ours to show
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        broker = broker_mod.Broker(
            {
                "listeners": {LISTENER: {"type": "external"}},
                "plugins": {f"{__name__}.Forwarder": {"broker": self}},
            }
        )
        await broker.start()
        self._amqtt_broker = broker
        try:
            server = await asyncio.start_server(self._connection, self.host, self.port)
        except OSError as exc:
            await broker.shutdown()
            raise SimBrokerError(f"Cannot listen on {self.address} for MQTT: {exc.strerror or exc}") from None
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        log.debug("MQTT broker for tenant %s listening on %s", self.state.tenant, self.url)
        try:
            await self._stopping.wait()
        finally:
            server.close()
            await asyncio.sleep(0)  # connections just accepted start and register themselves
            for task in list(self._tasks):
                task.cancel()
            await broker.shutdown()
            # A TLS close waits for the client's close_notify; the loop ends now, so close sockets at once.
            for writer in list(self._writers):
                writer.transport.abort()
            await asyncio.sleep(0.01)  # the aborts close their sockets in callbacks of this loop
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 2.0)

    # -- TLS -----------------------------------------------------------------------------------

    def _new_context(self) -> ssl.SSLContext:
        assert self._files is not None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(*self._files)
        ctx.verify_mode = ssl.CERT_REQUIRED
        # Fewer resumed sessions (which skip the certificate check; the gate checks anyway, mqtt.md P7).
        ctx.options |= ssl.OP_NO_TICKET
        ctx.num_tickets = 0
        return ctx

    def _agent_ca(self) -> x509.Certificate | None:
        ca = getattr(self.app.state, "mqtt_ca", None)
        return getattr(ca, "certificate", None)

    def trust_context(self) -> ssl.SSLContext:
        """A server context that trusts what may issue client certificates now (cached while unchanged)."""
        trusted = trusted_issuers(self.state, self._agent_ca())
        key = tuple(t.pem for t in trusted)
        if self._contexts is not None and self._contexts[0] == key:
            return self._contexts[1]
        ctx = self._new_context()
        for item in trusted:
            ctx.load_verify_locations(cadata=item.pem)
        self._contexts = (key, ctx)
        return ctx

    def _handshake_context(self) -> ssl.SSLContext:
        base = self._new_context()

        def swap(sslobj: Any, _name: str | None, _ctx: ssl.SSLContext) -> None:
            sslobj.context = self.trust_context()

        base.sni_callback = swap
        return base

    # -- connections ---------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._writers.add(writer)
        peer = writer.get_extra_info("peername") or ("?", 0)
        who = f"{peer[0]}:{peer[1]}"
        try:
            try:
                await writer.start_tls(self._handshake_context(), ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
            except (ssl.SSLError, ConnectionError, TimeoutError, OSError) as exc:
                closed = isinstance(exc, ssl.SSLEOFError) or not isinstance(exc, ssl.SSLError | TimeoutError)
                log.log(
                    logging.DEBUG if closed else logging.WARNING,  # a port probe is no refusal
                    "connection from %s refused in the TLS handshake: %s",
                    who,
                    _handshake_reason(exc, self.state.tenant),
                )
                return
            await self._gate(reader, writer, who)
        except asyncio.CancelledError:
            pass
        except Exception:  # noqa: BLE001 - one client's trouble must never stop the broker
            log.exception("connection from %s ended with an error", who)
        finally:
            if not writer.is_closing():
                writer.close()
            if task is not None:
                self._tasks.discard(task)

    async def _gate(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, who: str) -> None:
        """Read CONNECT, decide, then hand the connection to amqtt until the client's session ends."""
        adapters, _broker, connack, connect, packet = _amqtt()
        recorder = _Recorder(reader)
        try:
            header = await asyncio.wait_for(packet.MQTTFixedHeader.from_stream(recorder), CONNECT_TIMEOUT)
            if header is None:  # amqtt's answer to the end of the stream
                log.debug("connection from %s closed before CONNECT", who)
                return
            if header.packet_type != CONNECT_PACKET_TYPE:
                log.warning("connection from %s refused: the first packet is not CONNECT", who)
                return
            if header.remaining_length > MAX_CONNECT_BYTES:
                log.warning("connection from %s refused: CONNECT of %d bytes", who, header.remaining_length)
                return
            await asyncio.wait_for(recorder.read(header.remaining_length), CONNECT_TIMEOUT)
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            log.debug("connection from %s closed before CONNECT", who)
            return
        except TimeoutError:
            log.warning("connection from %s closed: no CONNECT within %.0f s", who, CONNECT_TIMEOUT)
            return
        raw = bytes(recorder.data)
        try:
            request = await connect.ConnectPacket.from_stream(adapters.BufferReader(raw))
            client_id = str(request.payload.client_id or "")
        except Exception:  # noqa: BLE001 - amqtt raises several kinds on malformed packets
            log.warning("connection from %s refused: the CONNECT packet cannot be read", who)
            return
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        twin = self._online.get(client_id)
        if twin is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(twin.wait(), TWIN_GRACE)
        now = dt.datetime.fromtimestamp(self.config.clock(), dt.UTC)
        refusal = authorize(self.state, self._agent_ca(), der, client_id, now)
        if refusal is None and client_id in self._online:
            refusal = Refusal(
                "duplicate",
                f"client id '{client_id}' is already connected (one connection per client id; the new one "
                "is refused)",
            )
        if refusal is not None:
            log.warning(
                "connection from %s as '%s' refused (CONNACK %d): %s",
                who,
                client_id,
                refusal.connack,
                refusal.reason,
            )
            await connack.ConnackPacket.build(0, refusal.connack).to_stream(
                adapters.StreamWriterAdapter(writer)
            )
            return
        gone = self._online[client_id] = asyncio.Event()
        try:
            ensure_agent(self.state, client_id, now)
            log.info("%s connected as %s", who, client_id)
            # Returns when the client's session ends.
            await self._amqtt_broker.external_connected(
                _replay_adapter(adapters, raw, reader), adapters.StreamWriterAdapter(writer), LISTENER
            )
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass
        finally:
            self._online.pop(client_id, None)
            gone.set()
            log.info("%s (%s) disconnected", client_id, who)

    # -- messages ------------------------------------------------------------------------------

    def received(self, client_id: str, topic: str, payload: bytes) -> None:
        """A PUBLISH amqtt accepted from ``client_id`` (called on the broker's loop)."""
        handle_message(self.state, client_id, topic, payload)


__all__ = ["BrokerCertificates", "SimBroker", "SimBrokerError"]
