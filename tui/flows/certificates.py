"""Certificates workflows (issue 10): register a CA with proof of possession in one action, resume it,
create agent certificates, issue device certificates from a local CA, and the facts to connect with them.

The Certificates screen and ``ihub certs`` both call these; they differ only in how they show the steps.

**Register a CA** (``register_ca``, ``register_new_ca``): read → lint → save key → upload → registration
code → verification certificate → verify. Each step is reported through ``on_step`` (a plain or async
callable taking a ``StepEvent``) as it starts and as it ends, and the returned ``RegistrationResult`` says
how it ended:

- ``VERIFIED``: done.
- ``NEEDS_VERIFICATION``: uploaded, but the CA key is not on this machine; the result carries the
  registration code and the exact ``openssl`` commands; ``submit_verification`` accepts the PEM they make.
- ``REFUSED``: stopped before anything was uploaded (unreadable input, a key that is not the CA's, a lint
  failure such as the limit of two, the service refusing the upload, a verification certificate that
  cannot be right).
- ``FAILED``: a step failed on the way (network, service). When the CA was uploaded, ``resumable`` is true
  and ``verify_ca(api, result.ca.id, ...)`` continues where it stopped; registering the same certificate
  again also continues (an uploaded but unverified CA is verified instead of uploaded twice).

Keys are never lost (issue 10 §2): a CA key handed over or made here is saved by ``CaKeyStore`` (encrypted,
0600, fsynced, read back) before the upload starts; an agent certificate's key is written to disk
before its response is parsed any further.

Sources: reference §5.1 (operations, proof of possession, client id), §5.2 (broker and topics), §5.3 (the
contract); ``tui.api.mqtt`` for the calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import re
import shlex
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlparse

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import NameOID

from tui.api import contract as C
from tui.api.client import ApiClient
from tui.api.errors import ApiError, ConflictError, TransportError
from tui.api.models import AgentCertificate, CaCertificate
from tui.api.mqtt import AGENT_NAME_RE, is_ca_limit_error
from tui.config.ca_passphrase import CaKeyPassphrase
from tui.config.paths import AppPaths
from tui.config.secrets import SecretStore, SecretStoreError
from tui.pki.build import (
    IssuedCertificate,
    IssuedFiles,
    SubjectFields,
    create_ca,
    file_stem,
    issue_certificate,
    make_verification_certificate,
    write_issued,
)
from tui.pki.errors import FileWriteError, PkiError
from tui.pki.files import PRIVATE_FILE, PUBLIC_FILE, check_writable, write_file
from tui.pki.inspection import CertificateInfo, fingerprint_sha256, inspect_certificate, normalize_fingerprint
from tui.pki.keys import KeyType, PrivateKey
from tui.pki.keystore import CaKeyStore, StoredCa
from tui.pki.lint import CA_LIMIT, LintReport, Rule, Status, lint_ca
from tui.pki.load import certificate_pem, load_certificate, load_private_key, read_material
from tui.pki.verify import key_matches_certificate

# -------------------------------------------------------------------------------------- broker facts

#: MindConnect MQTT brokers by region (reference 5.2): host and TLS port with client certificates.
BROKERS: dict[str, tuple[str, int]] = {"eu1": ("mindconnectmqtt.eu1.mindsphere.io", 8883)}
#: The broker's root CA as Asset Manager offers it for download (reference 5.2, MQTT-sample).
BROKER_CA_FILE = "MindSphereRootCA1.pem"
TOPIC_PREFIX = "tc/{tenant}/{client_id}/o/mc_v3/"
EXPIRY_WARNING_DAYS = 30
EXPIRY_CRITICAL_DAYS = 7


def region_of(gateway: str | None) -> str | None:
    """``https://gateway.eu1.mindsphere.io`` -> ``"eu1"`` (also ``gateway.eu1-int.…``); None otherwise."""
    host = (urlparse(gateway or "").hostname or "").lower()
    match = re.match(r"gateway\.([a-z]{2}[0-9])(?:-[a-z0-9]+)?\.", host)
    return match.group(1) if match else None


def client_id_for(tenant: str, common_name: str, region: str | None = "eu1") -> str:
    """The MQTT client id of an agent certificate with CN ``common_name``: ``<tenant>_<CN>`` on Europe 1
    and private cloud, just the CN on Europe 2 (reference 5.1)."""
    return common_name if region == "eu2" else f"{tenant}_{common_name}"


def expiry_level(days_left: int | None) -> str | None:
    """``"expired"``, ``"critical"`` (7 days or less), ``"warning"`` (30 days or less) or None."""
    if days_left is None:
        return None
    if days_left < 0:
        return "expired"
    if days_left <= EXPIRY_CRITICAL_DAYS:
        return "critical"
    if days_left <= EXPIRY_WARNING_DAYS:
        return "warning"
    return None


@dataclass(frozen=True)
class ConnectionFacts:
    """What an MQTT agent needs to connect (reference 5.2): broker, client id, topic prefix, files, and a
    ready ``mosquitto_pub`` line. ``host`` is None where the region's broker is not known."""

    tenant: str
    client_id: str
    host: str | None
    port: int
    topic_prefix: str
    certificate_file: Path | None
    key_file: Path | None
    broker_ca_file: str
    mosquitto_pub: str | None
    notes: tuple[str, ...] = ()

    @property
    def broker(self) -> str | None:
        return f"{self.host}:{self.port}" if self.host else None

    @property
    def timeseries_topic(self) -> str:
        return self.topic_prefix + "ts"


def connection_facts(
    tenant: str,
    client_id: str,
    *,
    gateway: str | None = None,
    region: str | None = None,
    certificate_file: Path | None = None,
    key_file: Path | None = None,
    broker: tuple[str, int] | None = None,
    broker_ca_file: str = BROKER_CA_FILE,
    now: dt.datetime | None = None,
) -> ConnectionFacts:
    """The connection facts for ``client_id``. The broker comes from ``broker``, else the region (given,
    or read from ``gateway``; Europe 1 when neither says). ``certificate_file`` should be the chain file
    for a certificate issued by a tenant CA (device certificate then CA, as the onboarding how-to says)."""
    region = region or region_of(gateway) or ("eu1" if gateway is None else None)
    host, port = broker if broker else BROKERS.get(region or "", (None, 8883))
    prefix = TOPIC_PREFIX.format(tenant=tenant, client_id=client_id)
    notes = []
    if host is None:
        where = f"region {region}" if region else f"the gateway {gateway}"
        notes.append(
            f"the MindConnect MQTT broker for {where} is not known (MindConnect MQTT is offered in Europe 1)"
        )
    if not broker:
        notes.append(
            f"{broker_ca_file}: the broker's root CA, downloaded in Asset Manager under Connectivity → "
            "Manage MQTT certificates → Broker Root CA"
        )
    command = None
    if host is not None:
        stamp = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        payload = (
            '{"timeseries":[{"timestamp":"' + stamp + '","values":'
            '[{"dataPointId":"dp1","value":"21.5","qualityCode":"0"}]}]}'
        )
        parts = ["mosquitto_pub", "-h", host, "-p", str(port), "-V", "mqttv311", "--cafile", broker_ca_file]
        parts += [
            "--cert",
            str(certificate_file or "certificate.pem"),
            "--key",
            str(key_file or "private.key"),
        ]
        parts += ["-i", client_id, "-q", "1", "-t", prefix + "ts", "-m", payload]
        command = " ".join(shlex.quote(p) for p in parts)
    return ConnectionFacts(
        tenant,
        client_id,
        host,
        port,
        prefix,
        certificate_file,
        key_file,
        broker_ca_file,
        command,
        tuple(notes),
    )


# ---------------------------------------------------------------------------------------- key store


def ca_key_store(
    paths: AppPaths,
    secrets: SecretStore,
    tenant: str,
    *,
    environ: Mapping[str, str] | None = None,
    allow_session: bool = False,
) -> CaKeyStore:
    """The tenant's CA key store under ``paths.pki_dir``, its passphrase in ``secrets``
    (``tui.config.ca_passphrase``). ``allow_session`` only for a throw-away data folder (the demo)."""
    source = CaKeyPassphrase(secrets, tenant, environ=environ, allow_session=allow_session)
    return CaKeyStore.for_tenant(paths.pki_dir, tenant, source)


def server_now(api: ApiClient, now: dt.datetime | None = None) -> dt.datetime:
    """``now``, or the service's time as the client knows it (``ApiClient.server_time``): certificate
    validity is judged by the service on its clock, so a local clock that is wrong by half an hour must
    neither make a new certificate start in the service's future nor call a valid one expired."""
    if now is not None:
        return now
    return dt.datetime.fromtimestamp(api.server_time(), dt.UTC)


async def _learn_server_time(api: ApiClient) -> None:
    """Fetch the token now (needed next anyway) so that the clock skew is known before a certificate is
    made; a failure is left to the first API call, which reports it."""
    with contextlib.suppress(ApiError):
        await api.tokens.get()


async def tenant_of(api: ApiClient) -> str:
    """The tenant of the connection, from the token (``ten`` claim)."""
    token = await api.tokens.get()
    if not token.tenant:
        raise CertificateFlowError("the access token names no tenant; set the tenant in the profile")
    return token.tenant


class CertificateFlowError(Exception):
    """A certificates workflow cannot go on; the message is one plain line without secrets."""


# ------------------------------------------------------------------------------------------- events


class Step(StrEnum):
    CREATE = "create"
    READ = "read"
    LINT = "lint"
    SAVE_KEY = "save-key"
    UPLOAD = "upload"
    REGISTRATION_CODE = "registration-code"
    VERIFICATION_CERT = "verification-certificate"
    VERIFY = "verify"


STEP_TITLES: dict[Step, str] = {
    Step.CREATE: "Create the CA key and certificate",
    Step.READ: "Read the CA certificate and key",
    Step.LINT: "Check the platform rules",
    Step.SAVE_KEY: "Keep the CA key on this machine",
    Step.UPLOAD: "Upload the CA certificate",
    Step.REGISTRATION_CODE: "Get the registration code",
    Step.VERIFICATION_CERT: "Make the verification certificate",
    Step.VERIFY: "Verify (proof of possession)",
}

#: The steps of a registration, in order (``CREATE`` only for a CA made here).
REGISTER_STEPS = (
    Step.READ,
    Step.LINT,
    Step.SAVE_KEY,
    Step.UPLOAD,
    Step.REGISTRATION_CODE,
    Step.VERIFICATION_CERT,
    Step.VERIFY,
)


class StepState(StrEnum):
    RUNNING = "running"
    OK = "ok"
    WARN = "warn"  # done, with something to note (lint warnings, key not on this machine)
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class StepEvent:
    """One step starting (``RUNNING``) or ending. ``detail`` is plain words; ``elapsed`` seconds for an
    ending step; ``lint`` carries the report of the lint step."""

    step: Step
    state: StepState
    detail: str = ""
    elapsed: float = 0.0
    lint: LintReport | None = field(default=None, repr=False, compare=False)

    @property
    def title(self) -> str:
        return STEP_TITLES[self.step]


StepCallback = Callable[[StepEvent], Awaitable[object] | object]


class Outcome(StrEnum):
    VERIFIED = "verified"
    NEEDS_VERIFICATION = "needs-verification"
    REFUSED = "refused"
    FAILED = "failed"


@dataclass(frozen=True)
class RegistrationResult:
    """How a registration (or a resumed one) ended; ``steps`` holds each step's final event in order."""

    outcome: Outcome
    steps: tuple[StepEvent, ...]
    ca: CaCertificate | None = None
    certificate: x509.Certificate | None = field(default=None, repr=False)
    registration_code: str | None = None
    recipe: tuple[str, ...] = ()
    message: str = ""
    failed_step: Step | None = None
    lint: LintReport | None = field(default=None, repr=False)
    stored_key: StoredCa | None = None
    #: Seconds spent generating keys (CA and verification key), for the benchmark.
    key_generation_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.VERIFIED

    @property
    def uploaded(self) -> bool:
        return self.ca is not None

    @property
    def resumable(self) -> bool:
        """Uploaded but not verified: ``verify_ca`` (or ``submit_verification``) can finish it."""
        return self.ca is not None and not self.ca.verified and self.outcome is not Outcome.VERIFIED

    @property
    def next_action(self) -> str:
        """What the user can do now, in plain words."""
        if self.outcome is Outcome.VERIFIED:
            return "done: devices with certificates from this CA can connect"
        if self.outcome is Outcome.NEEDS_VERIFICATION and self.ca is not None:
            return (
                "run the commands below where the CA key is, then hand over verification.pem "
                f"(ihub certs verify {self.ca.id} --verification-cert verification.pem)"
            )
        if self.resumable and self.ca is not None:
            return (
                f"the CA is uploaded but not verified: verify it later (ihub certs verify {self.ca.id} ...)"
            )
        if self.outcome is Outcome.REFUSED:
            return "nothing was uploaded: fix the reason above and try again"
        return "nothing was uploaded: try again"


class _Steps:
    """Reports step events and keeps the last one of each step."""

    def __init__(self, callback: StepCallback | None) -> None:
        self.callback = callback
        self.final: dict[Step, StepEvent] = {}
        self.started: dict[Step, float] = {}

    async def _emit(self, event: StepEvent) -> None:
        if self.callback is None:
            return
        result = self.callback(event)
        if inspect.isawaitable(result):
            await result

    async def start(self, step: Step, detail: str = "") -> None:
        self.started[step] = time.perf_counter()
        await self._emit(StepEvent(step, StepState.RUNNING, detail))

    async def end(
        self, step: Step, state: StepState, detail: str = "", lint: LintReport | None = None
    ) -> None:
        began = self.started.get(step)
        elapsed = time.perf_counter() - began if began is not None else 0.0
        event = StepEvent(step, state, detail, elapsed, lint)
        self.final[step] = event
        await self._emit(event)

    def events(self) -> tuple[StepEvent, ...]:
        order = (Step.CREATE, *REGISTER_STEPS)
        return tuple(self.final[s] for s in order if s in self.final)


@dataclass
class _Run:
    steps: _Steps
    certificate: x509.Certificate | None = None
    key: PrivateKey | None = None
    ca: CaCertificate | None = None
    code: str | None = None
    lint: LintReport | None = None
    stored: StoredCa | None = None
    keygen: float = 0.0

    def result(
        self, outcome: Outcome, message: str, failed: Step | None = None, **extra: object
    ) -> RegistrationResult:
        return RegistrationResult(
            outcome=outcome,
            steps=self.steps.events(),
            ca=self.ca,
            certificate=self.certificate,
            registration_code=self.code,
            message=message,
            failed_step=failed,
            lint=self.lint,
            stored_key=self.stored,
            key_generation_seconds=self.keygen,
            **extra,  # type: ignore[arg-type]
        )

    async def refuse(self, step: Step, message: str) -> RegistrationResult:
        await self.steps.end(step, StepState.FAILED, message)
        return self.result(Outcome.REFUSED, message, step)

    async def fail(self, step: Step, message: str) -> RegistrationResult:
        await self.steps.end(step, StepState.FAILED, message)
        return self.result(Outcome.FAILED, message, step)


def _api_message(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _default_name(certificate: x509.Certificate) -> str:
    try:
        values = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        cn = str(values[0].value).strip() if values else ""
    except ValueError:
        cn = ""
    return (cn or f"ca-{fingerprint_sha256(certificate)[:12]}")[: C.CA_NAME_MAX]


# ------------------------------------------------------------------------------------ registration


def openssl_recipe(
    registration_code: str,
    *,
    ca_certificate_file: str = "ca.pem",
    ca_key_file: str = "ca.key",
    out: str = "verification.pem",
) -> tuple[str, ...]:
    """The ``openssl`` commands that make the verification certificate where the CA key is (reference
    5.1): a throw-away key, a request with CN = the registration code, signed by the CA for one day."""
    q = shlex.quote
    return (
        "openssl req -new -newkey rsa:2048 -nodes -keyout verification.key "
        f"-subj {q('/CN=' + registration_code)} "
        "-out verification.csr",
        f"openssl x509 -req -in verification.csr -CA {q(ca_certificate_file)} -CAkey {q(ca_key_file)} "
        f"-CAcreateserial -days 1 -sha256 -out {q(out)}",
    )


async def lint_for_upload(api: ApiClient, certificate: bytes | str | x509.Certificate) -> LintReport:
    """The lint of a CA certificate with the uploaded CAs from the service (for ``ihub certs lint`` and the
    screen's preview); when the list cannot be read the two list rules warn "not checked"."""
    try:
        existing: list[CaCertificate] | None = await api.mqtt.list_ca()
    except ApiError:
        existing = None
    return lint_ca(certificate, existing)


async def register_new_ca(
    api: ApiClient,
    subject: SubjectFields | str,
    *,
    key_store: CaKeyStore,
    key_type: KeyType | str = KeyType.RSA2048,
    days: int = 365,
    name: str | None = None,
    description: str | None = None,
    on_step: StepCallback | None = None,
    now: dt.datetime | None = None,
) -> RegistrationResult:
    """Create a CA here (``tui.pki.create_ca``, in a thread) and register it: the key is kept in
    ``key_store`` before the upload. Same result as ``register_ca``, with a ``CREATE`` step first."""
    steps = _Steps(on_step)
    try:
        label = KeyType.parse(key_type).label
    except PkiError as exc:
        await steps.end(Step.CREATE, StepState.FAILED, str(exc))
        return RegistrationResult(Outcome.REFUSED, steps.events(), message=str(exc), failed_step=Step.CREATE)
    await steps.start(Step.CREATE, label)
    began = time.perf_counter()
    if now is None:
        await _learn_server_time(api)
    try:
        material = await asyncio.to_thread(create_ca, subject, key_type, days, now=server_now(api, now))
    except PkiError as exc:
        await steps.end(Step.CREATE, StepState.FAILED, str(exc))
        return RegistrationResult(Outcome.REFUSED, steps.events(), message=str(exc), failed_step=Step.CREATE)
    keygen = time.perf_counter() - began
    cn = _default_name(material.certificate)
    await steps.end(Step.CREATE, StepState.OK, f"{cn}, {label}, {days} days")
    result = await register_ca(
        api,
        material.certificate,
        key=material.private_key,
        key_store=key_store,
        name=name,
        description=description,
        on_step=on_step,
        now=now,
        _steps=steps,
    )
    return replace(result, key_generation_seconds=result.key_generation_seconds + keygen)


async def register_ca(
    api: ApiClient,
    certificate: bytes | str | x509.Certificate,
    *,
    key: bytes | str | PrivateKey | None = None,
    key_passphrase: str | None = None,
    key_store: CaKeyStore | None = None,
    name: str | None = None,
    description: str | None = None,
    on_step: StepCallback | None = None,
    now: dt.datetime | None = None,
    _steps: _Steps | None = None,
) -> RegistrationResult:
    """Register a CA certificate with proof of possession in one action (module docstring).

    ``certificate``: PEM/DER bytes or text, or a parsed certificate. ``key``: its private key (any form
    ``tui.pki.load_private_key`` reads; ``key_passphrase`` for an encrypted one), or None to use the key
    kept in ``key_store`` for this certificate, or to stop after the upload with the registration code and
    the ``openssl`` commands when this machine has no key. Never raises for bad input or API errors: the
    result says what happened. Nothing is uploaded unless the certificate reads, the key (if any) is the
    CA's, every lint rule passes (or only warns) and the key is durably kept.
    """
    run = _Run(_steps or _Steps(on_step))
    steps = run.steps

    # 1. read ------------------------------------------------------------------------------------------
    await steps.start(Step.READ)
    try:
        raw = certificate
        if isinstance(raw, bytes | str):
            material = read_material(raw, what="the CA certificate")
            if not material.certificates:
                return await run.refuse(
                    Step.READ, f"the CA certificate holds no certificate (found: {material.summary()})"
                )
            run.certificate = material.certificates[0]
        else:
            run.certificate = load_certificate(raw)
        if key is not None:
            run.key = await asyncio.to_thread(load_private_key, key, key_passphrase, what="the CA key")
    except PkiError as exc:
        return await run.refuse(Step.READ, str(exc))
    cert = run.certificate
    try:
        cert.public_key()
    except Exception:  # noqa: BLE001 - ValueError, UnsupportedAlgorithm for damaged or exotic keys
        return await run.refuse(
            Step.READ, "the CA certificate's public key cannot be read (damaged, or an unsupported algorithm)"
        )
    if run.key is not None and not key_matches_certificate(run.key, cert):
        return await run.refuse(
            Step.READ, "the private key does not belong to this CA certificate (their public keys differ)"
        )
    ca_name = (name or "").strip() or _default_name(cert)
    if len(ca_name) > C.CA_NAME_MAX:
        return await run.refuse(Step.READ, f"the name must be 1 to {C.CA_NAME_MAX} characters")
    if run.key is None and key_store is not None:
        try:
            stored = await asyncio.to_thread(key_store.find, cert)
            if stored is not None:
                run.key = await asyncio.to_thread(key_store.load_key, cert)
                run.stored = stored
        except PkiError as exc:
            return await run.refuse(Step.READ, f"the CA key kept on this machine cannot be used: {exc}")
    info = inspect_certificate(cert, server_now(api, now))
    key_note = (
        "key matches"
        if run.key is not None and run.stored is None
        else "key kept on this machine"
        if run.key is not None
        else "no CA key on this machine"
    )
    await steps.end(Step.READ, StepState.OK, f"{info.subject}, {info.key.description}; {key_note}")

    # 2. lint ------------------------------------------------------------------------------------------
    await steps.start(Step.LINT)
    try:
        existing = await api.mqtt.list_ca()
    except ApiError as exc:
        return await run.fail(
            Step.LINT, f"the uploaded CA certificates cannot be listed: {_api_message(exc)}"
        )
    report = lint_ca(
        certificate if isinstance(certificate, bytes | str) else cert, existing, now=server_now(api, now)
    )
    run.lint = report
    fingerprint = fingerprint_sha256(cert)
    already = next((c for c in existing if normalize_fingerprint(c.fingerprint_sha256) == fingerprint), None)
    blocking = [r for r in report.failures if not (already is not None and r.rule is Rule.NOT_UPLOADED)]
    if already is not None and already.verified:
        run.ca = already
        message = f"this CA certificate is already uploaded and verified as {already.name!r}"
        await steps.end(Step.LINT, StepState.OK, message, report)
        return run.result(Outcome.VERIFIED, message)
    if blocking:
        message = "; ".join(f"{r.title}: {r.detail}" for r in blocking)
        await steps.end(Step.LINT, StepState.FAILED, message, report)
        return run.result(Outcome.REFUSED, message, Step.LINT)
    warnings = report.warnings
    if warnings:
        await steps.end(
            Step.LINT, StepState.WARN, "; ".join(f"{r.title}: {r.detail}" for r in warnings), report
        )
    else:
        await steps.end(Step.LINT, StepState.OK, report.summary(), report)

    # 3. save the key ----------------------------------------------------------------------------------
    await steps.start(Step.SAVE_KEY)
    if run.key is None:
        await steps.end(Step.SAVE_KEY, StepState.SKIPPED, "the CA key is not on this machine")
    elif run.stored is not None:
        await steps.end(Step.SAVE_KEY, StepState.OK, f"already kept in {run.stored.key_path}")
    elif key_store is None:
        await steps.end(Step.SAVE_KEY, StepState.SKIPPED, "no key store given: the key stays where it is")
    else:
        try:
            run.stored = await asyncio.to_thread(key_store.save, cert, run.key)
        except (PkiError, SecretStoreError) as exc:
            return await run.refuse(
                Step.SAVE_KEY, f"the CA key could not be kept, so nothing was uploaded: {exc}"
            )
        await steps.end(Step.SAVE_KEY, StepState.OK, f"kept encrypted in {run.stored.key_path}")

    # 4. upload ----------------------------------------------------------------------------------------
    await steps.start(Step.UPLOAD)
    if already is not None:
        run.ca = already
        await steps.end(
            Step.UPLOAD,
            StepState.SKIPPED,
            f"already uploaded as {already.name!r} and not verified yet: continuing with verification",
        )
    else:
        outcome = await _upload(api, run, ca_name, description)
        if outcome is not None:
            return outcome

    # 5-7. registration code, verification certificate, verify -----------------------------------------
    return await _prove(api, run, now)


async def _upload(api: ApiClient, run: _Run, name: str, description: str | None) -> RegistrationResult | None:
    assert run.certificate is not None
    pem = certificate_pem(run.certificate)
    try:
        run.ca = await api.mqtt.upload_ca(name, pem, description=description)
    except ApiError as exc:
        if is_ca_limit_error(exc):
            return await run.refuse(
                Step.UPLOAD,
                f"the service refused the upload: at most {CA_LIMIT} CA certificates are allowed; "
                f"delete one first ({_api_message(exc)})",
            )
        if isinstance(exc, TransportError | ConflictError):
            # The POST may have arrived (dropped answer) or raced another upload: look before failing.
            found = await _find_uploaded(api, fingerprint_sha256(run.certificate))
            if found is not None and not found.verified:
                run.ca = found
                await run.steps.end(Step.UPLOAD, StepState.OK, f"uploaded as {found.name!r} (id {found.id})")
                return None
        if isinstance(exc, TransportError):
            return await run.fail(Step.UPLOAD, f"the upload did not complete: {_api_message(exc)}")
        return await run.refuse(Step.UPLOAD, f"the service refused the upload: {_api_message(exc)}")
    except ValueError as exc:
        return await run.refuse(Step.UPLOAD, str(exc))
    await run.steps.end(
        Step.UPLOAD, StepState.OK, f"uploaded as {run.ca.name!r} (id {run.ca.id}), not verified yet"
    )
    return None


async def _find_uploaded(api: ApiClient, fingerprint: str) -> CaCertificate | None:
    try:
        listed = await api.mqtt.list_ca()
    except ApiError:
        return None
    return next((c for c in listed if normalize_fingerprint(c.fingerprint_sha256) == fingerprint), None)


async def _prove(api: ApiClient, run: _Run, now: dt.datetime | None) -> RegistrationResult:
    """Registration code → verification certificate (needs the key) → verify."""
    assert run.ca is not None and run.certificate is not None
    steps = run.steps
    await steps.start(Step.REGISTRATION_CODE)
    try:
        run.code = await api.mqtt.registration_code(run.ca.id)
    except ApiError as exc:
        return await run.fail(
            Step.REGISTRATION_CODE, f"the registration code cannot be read: {_api_message(exc)}"
        )
    await steps.end(Step.REGISTRATION_CODE, StepState.OK, run.code)

    await steps.start(Step.VERIFICATION_CERT)
    if run.key is None:
        recipe = openssl_recipe(run.code)
        message = (
            "the CA key is not on this machine: make the verification certificate where it is, "
            "with the commands shown, and hand over verification.pem"
        )
        await steps.end(Step.VERIFICATION_CERT, StepState.WARN, message)
        return run.result(Outcome.NEEDS_VERIFICATION, message, recipe=recipe)
    began = time.perf_counter()
    try:
        verification = await asyncio.to_thread(
            make_verification_certificate, run.code, run.certificate, run.key, now=server_now(api, now)
        )
    except PkiError as exc:
        return await run.fail(Step.VERIFICATION_CERT, str(exc))
    run.keygen += time.perf_counter() - began
    await steps.end(
        Step.VERIFICATION_CERT, StepState.OK, "CN = the registration code, signed with the CA key"
    )
    return await _verify(api, run, certificate_pem(verification))


async def _verify(api: ApiClient, run: _Run, verification_pem: str) -> RegistrationResult:
    assert run.ca is not None
    await run.steps.start(Step.VERIFY)
    try:
        run.ca = await api.mqtt.verify_ca(run.ca.id, verification_pem)
    except ConflictError:
        try:
            current = await api.mqtt.get_ca(run.ca.id)
        except ApiError as exc:
            return await run.fail(Step.VERIFY, f"the verification was refused: {_api_message(exc)}")
        if current.verified:
            run.ca = current
            await run.steps.end(Step.VERIFY, StepState.OK, "already verified")
            return run.result(Outcome.VERIFIED, "the CA certificate is verified")
        return await run.fail(Step.VERIFY, "the service refused the verification (conflict)")
    except ApiError as exc:
        return await run.fail(Step.VERIFY, f"the verification was refused: {_api_message(exc)}")
    except ValueError as exc:
        return await run.fail(Step.VERIFY, str(exc))
    if not run.ca.verified:
        return await run.fail(
            Step.VERIFY, f"the service answered, but the status is {run.ca.status or 'unknown'}"
        )
    await run.steps.end(Step.VERIFY, StepState.OK, f"{run.ca.name!r} is verified")
    return run.result(Outcome.VERIFIED, "the CA certificate is verified")


# -------------------------------------------------------------------------------------------- resume


async def _load_uploaded(
    api: ApiClient, run: _Run, ca_id: str, key_store: CaKeyStore | None
) -> RegistrationResult | None:
    """READ for a resume: the uploaded CA, its certificate (from the service or the key store)."""
    await run.steps.start(Step.READ)
    try:
        run.ca = await api.mqtt.get_ca(ca_id)
    except ApiError as exc:
        run.ca = None
        return await run.fail(Step.READ, f"the CA certificate {ca_id} cannot be read: {_api_message(exc)}")
    if run.ca.certificate_pem:
        try:
            run.certificate = load_certificate(run.ca.certificate_pem, what="the uploaded CA certificate")
        except PkiError as exc:
            return await run.fail(Step.READ, str(exc))
    elif key_store is not None:
        stored = await asyncio.to_thread(key_store.find, fingerprint=run.ca.fingerprint_sha256)
        run.certificate = stored.certificate if stored is not None else None
    if run.certificate is None:
        return await run.fail(
            Step.READ, "the service did not return the CA certificate and this machine does not have it"
        )
    if run.ca.verified:
        await run.steps.end(Step.READ, StepState.OK, f"{run.ca.name!r} is already verified")
        return run.result(Outcome.VERIFIED, "the CA certificate is already verified")
    await run.steps.end(Step.READ, StepState.OK, f"{run.ca.name!r}, not verified yet")
    return None


async def verify_ca(
    api: ApiClient,
    ca_id: str,
    *,
    key: bytes | str | PrivateKey | None = None,
    key_passphrase: str | None = None,
    key_store: CaKeyStore | None = None,
    on_step: StepCallback | None = None,
    now: dt.datetime | None = None,
) -> RegistrationResult:
    """Finish the registration of an uploaded, unverified CA (``ihub certs verify ID --ca-key FILE``).

    The key: ``key`` if given (checked against the CA, then kept in ``key_store``), else the one kept in
    ``key_store``; without either, the result is ``NEEDS_VERIFICATION`` with the code and the commands.
    """
    run = _Run(_Steps(on_step))
    done = await _load_uploaded(api, run, ca_id, key_store)
    if done is not None:
        return done
    assert run.certificate is not None
    await run.steps.start(Step.SAVE_KEY)
    try:
        if key is not None:
            run.key = await asyncio.to_thread(load_private_key, key, key_passphrase, what="the CA key")
            if not key_matches_certificate(run.key, run.certificate):
                return await run.refuse(
                    Step.SAVE_KEY,
                    "the private key does not belong to this CA certificate (their public keys differ)",
                )
            if key_store is not None:
                run.stored = await asyncio.to_thread(key_store.save, run.certificate, run.key)
        elif key_store is not None:
            stored = await asyncio.to_thread(key_store.find, run.certificate)
            if stored is not None:
                run.key = await asyncio.to_thread(key_store.load_key, run.certificate)
                run.stored = stored
    except (PkiError, SecretStoreError) as exc:
        return await run.refuse(Step.SAVE_KEY, str(exc))
    if run.key is None:
        await run.steps.end(Step.SAVE_KEY, StepState.SKIPPED, "the CA key is not on this machine")
    else:
        where = f"kept in {run.stored.key_path}" if run.stored is not None else "from the file given"
        await run.steps.end(Step.SAVE_KEY, StepState.OK, where)
    return await _prove(api, run, now)


async def submit_verification(
    api: ApiClient,
    ca_id: str,
    verification: bytes | str | x509.Certificate,
    *,
    on_step: StepCallback | None = None,
    now: dt.datetime | None = None,
) -> RegistrationResult:
    """Verify an uploaded CA with a verification certificate made elsewhere (e.g. by the ``openssl``
    commands of ``openssl_recipe``). Checked here first: exactly one certificate, CN = the registration
    code, signed by the CA, not expired; a wrong one is refused before it is sent."""
    run = _Run(_Steps(on_step))
    done = await _load_uploaded(api, run, ca_id, None)
    if done is not None:
        return done
    assert run.certificate is not None
    await run.steps.start(Step.REGISTRATION_CODE)
    try:
        run.code = await api.mqtt.registration_code(ca_id)
    except ApiError as exc:
        return await run.fail(
            Step.REGISTRATION_CODE, f"the registration code cannot be read: {_api_message(exc)}"
        )
    await run.steps.end(Step.REGISTRATION_CODE, StepState.OK, run.code)
    await run.steps.start(Step.VERIFICATION_CERT)
    try:
        vcert = load_certificate(verification, what="the verification certificate")
    except PkiError as exc:
        return await run.refuse(Step.VERIFICATION_CERT, str(exc))
    problem = _verification_problem(vcert, run.certificate, run.code, server_now(api, now))
    if problem:
        return await run.refuse(Step.VERIFICATION_CERT, problem)
    await run.steps.end(Step.VERIFICATION_CERT, StepState.OK, "CN = the registration code, signed by the CA")
    return await _verify(api, run, certificate_pem(vcert))


def _verification_problem(
    vcert: x509.Certificate, ca: x509.Certificate, code: str, now: dt.datetime | None
) -> str | None:
    try:
        values = vcert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        cn = str(values[0].value) if values else ""
    except ValueError:
        cn = ""
    if cn != code:
        return (
            "the verification certificate's common name is not this CA's registration code "
            f"(CN {cn[:70]!r}); make it again with the current code"
        )
    try:
        vcert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return "the verification certificate was not signed with this CA's private key"
    at = now or dt.datetime.now(dt.UTC)
    if vcert.not_valid_after_utc <= at:
        return f"the verification certificate expired on {vcert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
    return None


# ------------------------------------------------------------------------------------ overview (lists)


@dataclass(frozen=True)
class CaRow:
    """One uploaded CA for the list: the resource, its inspection (None if its PEM is missing or
    unreadable), whether its key is on this machine, and its expiry level."""

    ca: CaCertificate
    info: CertificateInfo | None
    key_on_machine: bool

    @property
    def days_left(self) -> int | None:
        return self.info.days_left if self.info is not None else None

    @property
    def expiry(self) -> str | None:
        return expiry_level(self.days_left)


@dataclass(frozen=True)
class CaOverview:
    rows: tuple[CaRow, ...]
    limit: int = CA_LIMIT

    @property
    def used_text(self) -> str:
        """``"1 of 2 used"``."""
        return f"{len(self.rows)} of {self.limit} used"


async def ca_overview(
    api: ApiClient, key_store: CaKeyStore | None = None, *, now: dt.datetime | None = None
) -> CaOverview:
    """The uploaded CA certificates with inspection, key presence and expiry (raises ``ApiError``)."""
    rows = []
    for ca in await api.mqtt.list_ca():
        info = None
        cert = None
        if ca.certificate_pem:
            try:
                cert = load_certificate(ca.certificate_pem, what="the uploaded CA certificate")
                info = inspect_certificate(cert, server_now(api, now))
            except PkiError:
                cert = None
        key_here = False
        if key_store is not None:
            try:
                found = (
                    key_store.find(cert)
                    if cert is not None
                    else key_store.find(fingerprint=ca.fingerprint_sha256)
                )
                key_here = found is not None
            except PkiError:
                key_here = False
        rows.append(CaRow(ca, info, key_here))
    return CaOverview(tuple(rows))


# -------------------------------------------------------------------------------- agent certificates


@dataclass(frozen=True)
class AgentCertificateResult:
    """An auto-generated agent certificate, where its files are, and how to connect with them."""

    agent: AgentCertificate
    certificate_file: Path | None
    key_file: Path
    facts: ConnectionFacts


async def create_agent_certificate(
    api: ApiClient,
    name: str,
    *,
    out_dir: Path,
    owner: str | None = None,
    overwrite: bool = False,
    broker: tuple[str, int] | None = None,
    now: dt.datetime | None = None,
) -> AgentCertificateResult:
    """Create an agent certificate and save ``<out_dir>/<name>.key`` (0600) and ``<name>.pem``.

    The folder is checked (created 0700, writable, no files overwritten unless ``overwrite``) before
    the request; the key is written, fsynced, before the response is parsed any further (the service
    returns it only once). Should writing fail anyway, the new certificate is deleted again so no
    unusable certificate is left behind. Raises ``CertificateFlowError`` / ``FileWriteError`` /
    ``ApiError``.
    """
    if not AGENT_NAME_RE.match(name or ""):
        raise CertificateFlowError(
            f"the agent name must be 1 to {C.AGENT_NAME_MAX} letters, digits, '_', '-' or '.'"
        )
    stem = file_stem(name)
    key_path, cert_path = out_dir / f"{stem}.key", out_dir / f"{stem}.pem"
    check_writable(out_dir, [key_path.name, cert_path.name], overwrite=overwrite)
    written: dict[str, Path] = {}
    failure: list[BaseException] = []

    def keep(certificate: str | None, private_key: str) -> None:
        try:
            written["key"] = write_file(
                key_path, private_key.encode("utf-8"), mode=PRIVATE_FILE, overwrite=overwrite
            )
            if certificate:
                written["cert"] = write_file(
                    cert_path, certificate.encode("utf-8"), mode=PUBLIC_FILE, overwrite=overwrite
                )
        except (PkiError, OSError) as exc:
            failure.append(exc)

    agent = await api.mqtt.create_agent_cert(name, owner, keep=keep)
    if failure:
        try:
            await api.mqtt.delete_agent_cert(agent.id)
            undo = "the new agent certificate was deleted again"
        except ApiError as exc:
            undo = f"delete the agent certificate {agent.id} (it cannot be used): {_api_message(exc)}"
        raise CertificateFlowError(f"the agent certificate's key could not be saved ({failure[0]}); {undo}")
    client_id = agent.client_id or agent.agent_name or name
    try:
        tenant = await tenant_of(api)
    except (CertificateFlowError, ApiError):
        tenant = client_id.split("_", 1)[0]
    facts = connection_facts(
        tenant,
        client_id,
        gateway=api.gateway,
        certificate_file=written.get("cert"),
        key_file=written["key"],
        broker=broker,
        now=server_now(api, now),
    )
    return AgentCertificateResult(agent, written.get("cert"), written["key"], facts)


# ------------------------------------------------------------------------------- device certificates


@dataclass(frozen=True)
class DeviceCertificateResult:
    """A device certificate issued by a local CA, its files and the connection facts."""

    issued: IssuedCertificate
    files: IssuedFiles
    client_id: str
    facts: ConnectionFacts


def issue_device_certificate(
    *,
    tenant: str,
    ca_certificate: x509.Certificate,
    ca_key: PrivateKey,
    common_name: str,
    out_dir: Path,
    days: int = 365,
    key_type: KeyType | str = KeyType.RSA2048,
    gateway: str | None = None,
    region: str | None = None,
    overwrite: bool = False,
    broker: tuple[str, int] | None = None,
    now: dt.datetime | None = None,
) -> DeviceCertificateResult:
    """Issue a device certificate (CN ``common_name``, clientAuth) from a local CA and write
    ``<CN>.key`` (0600, first), ``<CN>.pem`` and ``<CN>-chain.pem`` into ``out_dir``. The client id is
    ``<tenant>_<CN>`` (Europe 1). Blocking (key generation): call from a thread. Raises ``PkiError``."""
    stem = file_stem(common_name)
    issued = issue_certificate(ca_certificate, ca_key, stem, days=days, key_type=key_type, now=now)
    files = write_issued(issued, out_dir, stem, overwrite=overwrite)
    region = region or region_of(gateway) or "eu1"
    client_id = client_id_for(tenant, stem, region)
    facts = connection_facts(
        tenant,
        client_id,
        region=region,
        certificate_file=files.chain,
        key_file=files.key,
        broker=broker,
        now=now,
    )
    return DeviceCertificateResult(issued, files, client_id, facts)


async def registered_ca(api: ApiClient, certificate: x509.Certificate) -> CaCertificate | None:
    """The uploaded CA with the same fingerprint as ``certificate`` (None if not uploaded)."""
    return await _find_uploaded(api, fingerprint_sha256(certificate))


__all__ = [
    "BROKERS",
    "AgentCertificateResult",
    "CaOverview",
    "CaRow",
    "CertificateFlowError",
    "ConnectionFacts",
    "DeviceCertificateResult",
    "FileWriteError",
    "Outcome",
    "RegistrationResult",
    "Status",
    "Step",
    "StepEvent",
    "StepState",
    "ca_key_store",
    "ca_overview",
    "client_id_for",
    "connection_facts",
    "create_agent_certificate",
    "expiry_level",
    "issue_device_certificate",
    "lint_for_upload",
    "openssl_recipe",
    "region_of",
    "register_ca",
    "register_new_ca",
    "registered_ca",
    "submit_verification",
    "tenant_of",
    "verify_ca",
]
