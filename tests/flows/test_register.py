"""Register a CA in one action against the simulator through the API layer (issue 10 §3 "Register a CA",
§5): every step reported as it happens, resumable states, the third CA, a wrong key, and the key kept
before anything is uploaded."""

from __future__ import annotations

import asyncio
import datetime as dt
import shlex
import shutil
import subprocess
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from tests.flows.conftest import PASSPHRASE, Sim
from tests.pki.conftest import custom_ca, pem
from tui.api.errors import ServerError, TransportError
from tui.flows.certificates import (
    REGISTER_STEPS,
    Outcome,
    Step,
    StepEvent,
    StepState,
    lint_for_upload,
    openssl_recipe,
    register_ca,
    register_new_ca,
    submit_verification,
    verify_ca,
)
from tui.pki import CaKeyStore, Rule, Status, create_ca, make_verification_certificate
from tui.pki.inspection import fingerprint_sha256
from tui.sim.config import SimConfig


def _sim_cas(sim: Sim) -> list[dict]:
    return list(sim.state.ca_certificates.values())


async def test_register_new_ca_end_to_end(sim, key_store: CaKeyStore) -> None:
    s: Sim = sim()
    events: list[StepEvent] = []
    seen_at_save: dict[str, object] = {}

    def on_step(event: StepEvent) -> None:
        events.append(event)
        if event.step is Step.SAVE_KEY and event.state is StepState.OK:
            # The key is on disk and readable before anything is uploaded.
            seen_at_save["posts"] = list(s.ca_posts)
            seen_at_save["stored"] = key_store.list()

    result = await register_new_ca(s.api, "Plant CA", key_store=key_store, key_type="ec256", on_step=on_step)
    assert (
        result.outcome is Outcome.VERIFIED
        and result.ok
        and result.message == "the CA certificate is verified"
    )
    # Every step: started, then ended, in order.
    order = [Step.CREATE, *REGISTER_STEPS]
    assert [(e.step, e.state) for e in events] == [
        pair for step in order for pair in ((step, StepState.RUNNING), (step, StepState.OK))
    ]
    assert [e.step for e in result.steps] == order
    assert all(e.detail for e in result.steps)
    assert seen_at_save["posts"] == [] and len(seen_at_save["stored"]) == 1  # type: ignore[arg-type]
    # The service has it, verified; this machine has the key.
    (resource,) = _sim_cas(s)
    assert resource["status"] == "VERIFIED" and resource["name"] == "Plant CA"
    assert resource["fingerprintSha256"] == fingerprint_sha256(result.certificate)
    assert result.ca.verified and result.ca.id == resource["id"]
    assert key_store.load_key(result.certificate) is not None
    assert result.stored_key is not None and result.stored_key.key_path.is_file()
    assert result.registration_code and len(result.registration_code) == 64
    assert 0 < result.key_generation_seconds
    assert not result.resumable and "done" in result.next_action


async def test_register_pem_and_encrypted_key_files(sim, key_store: CaKeyStore) -> None:
    s: Sim = sim()
    ca = create_ca("Imported CA", "rsa2048")
    key_pem = ca.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(b"file passphrase"),
    )
    cert_file = ("Bag Attributes: exported by another tool\n" + ca.certificate_pem).replace("\n", "\r\n")
    result = await register_ca(
        s.api,
        cert_file.encode(),
        key=key_pem,
        key_passphrase="file passphrase",
        key_store=key_store,
        name="imported",
    )
    assert result.outcome is Outcome.VERIFIED, result.message
    assert _sim_cas(s)[0]["name"] == "imported"
    assert key_store.has_key(ca.certificate)  # an imported key is kept too (§2)


async def test_key_not_on_this_machine_gives_code_and_recipe(sim, tmp_path: Path) -> None:
    s: Sim = sim()
    ca = create_ca("Remote CA", "ec256")
    result = await register_ca(s.api, ca.certificate_pem)
    assert result.outcome is Outcome.NEEDS_VERIFICATION and result.resumable
    step = {e.step: e for e in result.steps}
    assert step[Step.SAVE_KEY].state is StepState.SKIPPED
    assert step[Step.VERIFICATION_CERT].state is StepState.WARN
    assert Step.VERIFY not in step
    (resource,) = _sim_cas(s)
    assert resource["status"] == "NOT_VERIFIED"
    assert result.registration_code == resource["_registrationCode"]
    assert result.recipe == openssl_recipe(result.registration_code)
    assert f"/CN={result.registration_code}" in result.recipe[0] and "-CAkey ca.key" in result.recipe[1]
    assert result.ca.id in result.next_action
    # The machine that has the key makes the verification certificate; we hand the PEM over.
    if shutil.which("openssl"):
        (tmp_path / "ca.pem").write_text(ca.certificate_pem)
        (tmp_path / "ca.key").write_bytes(
            ca.private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        for command in result.recipe:  # the exact lines a user would paste into a shell
            argv = shlex.split(command)
            done = await asyncio.to_thread(
                subprocess.run, argv, cwd=tmp_path, capture_output=True, text=True, check=False
            )
            assert done.returncode == 0, done.stderr
        verification = (tmp_path / "verification.pem").read_bytes()
    else:
        verification = pem(
            make_verification_certificate(result.registration_code, ca.certificate, ca.private_key)
        )
    events: list[StepEvent] = []
    final = await submit_verification(s.api, result.ca.id, verification, on_step=events.append)
    assert final.outcome is Outcome.VERIFIED, final.message
    assert _sim_cas(s)[0]["status"] == "VERIFIED"
    assert [e.step for e in final.steps] == [
        Step.READ,
        Step.REGISTRATION_CODE,
        Step.VERIFICATION_CERT,
        Step.VERIFY,
    ]


async def test_a_wrong_verification_certificate_is_refused_before_it_is_sent(sim) -> None:
    s: Sim = sim()
    ca, other = create_ca("CA", "ec256"), create_ca("Other", "ec256")
    pending = await register_ca(s.api, ca.certificate_pem)
    code = pending.registration_code
    cases = {
        "wrong CN": pem(make_verification_certificate("0" * 64, ca.certificate, ca.private_key)),
        "wrong signer": pem(make_verification_certificate(code, other.certificate, other.private_key)),
        "two certificates": ca.certificate_pem * 2,
        "not a certificate": "hello",
    }
    for label, data in cases.items():
        result = await submit_verification(s.api, pending.ca.id, data)
        assert result.outcome is Outcome.REFUSED, label
        assert result.failed_step is Step.VERIFICATION_CERT and "\n" not in result.message
    assert not any(c[1].endswith("/verify") for c in s.transport.calls)
    late = await submit_verification(
        s.api,
        pending.ca.id,
        pem(make_verification_certificate(code, ca.certificate, ca.private_key)),
        now=dt.datetime.now(dt.UTC) + dt.timedelta(days=3),
    )
    assert late.outcome is Outcome.REFUSED and "expired" in late.message


async def test_resume_after_a_failed_verify(sim, key_store: CaKeyStore, monkeypatch) -> None:
    s: Sim = sim()
    ca = create_ca("Flaky CA", "ec256")
    real_verify = s.api.mqtt.verify_ca

    async def dropped(*args, **kwargs):
        raise TransportError("the connection was dropped")

    monkeypatch.setattr(s.api.mqtt, "verify_ca", dropped)
    first = await register_ca(s.api, ca.certificate_pem, key=ca.private_key, key_store=key_store)
    assert first.outcome is Outcome.FAILED and first.failed_step is Step.VERIFY and first.resumable
    assert "verify it later" in first.next_action
    monkeypatch.setattr(s.api.mqtt, "verify_ca", real_verify)
    # Later: "verify" with the key kept on this machine (no key argument needed).
    events: list[StepEvent] = []
    later = await verify_ca(s.api, first.ca.id, key_store=key_store, on_step=events.append)
    assert later.outcome is Outcome.VERIFIED, later.message
    assert [e.step for e in later.steps] == [
        Step.READ,
        Step.SAVE_KEY,
        Step.REGISTRATION_CODE,
        Step.VERIFICATION_CERT,
        Step.VERIFY,
    ]
    again = await verify_ca(s.api, first.ca.id, key_store=key_store)
    assert again.outcome is Outcome.VERIFIED and "already verified" in again.message


async def test_registering_an_uploaded_unverified_ca_again_continues(sim, key_store: CaKeyStore) -> None:
    s: Sim = sim()
    ca = create_ca("Twice CA", "ec256")
    assert (await register_ca(s.api, ca.certificate_pem)).outcome is Outcome.NEEDS_VERIFICATION
    result = await register_ca(s.api, ca.certificate_pem, key=ca.private_key, key_store=key_store)
    assert result.outcome is Outcome.VERIFIED, result.message
    assert {e.step: e.state for e in result.steps}[Step.UPLOAD] is StepState.SKIPPED
    assert len(s.ca_posts) == 1 and len(_sim_cas(s)) == 1
    done = await register_ca(s.api, ca.certificate_pem, key=ca.private_key, key_store=key_store)
    assert done.outcome is Outcome.VERIFIED and "already uploaded and verified" in done.message
    assert len(s.ca_posts) == 1


async def test_verify_later_with_a_key_file(sim, key_store: CaKeyStore) -> None:
    s: Sim = sim()
    ca, other = create_ca("Later CA", "ec256"), create_ca("Other", "ec256")
    pending = await register_ca(s.api, ca.certificate_pem)
    wrong = await verify_ca(s.api, pending.ca.id, key=other.private_key, key_store=key_store)
    assert wrong.outcome is Outcome.REFUSED and "does not belong" in wrong.message
    assert key_store.list() == []
    key_pem = ca.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    done = await verify_ca(s.api, pending.ca.id, key=key_pem, key_store=key_store)
    assert done.outcome is Outcome.VERIFIED and key_store.has_key(ca.certificate)
    nothing_here = await register_ca(s.api, create_ca("no key", "ec256").certificate_pem)
    result = await verify_ca(s.api, nothing_here.ca.id, key_store=key_store)
    assert result.outcome is Outcome.NEEDS_VERIFICATION and result.recipe


async def test_third_ca_refused_from_the_list(sim, key_store: CaKeyStore) -> None:
    s: Sim = sim()
    for i in range(2):
        await s.api.mqtt.upload_ca(f"existing {i}", create_ca(f"existing {i}", "ec256").certificate_pem)
    posts_before = len(s.ca_posts)
    third = create_ca("Third", "ec256")
    result = await register_ca(s.api, third.certificate_pem, key=third.private_key, key_store=key_store)
    assert result.outcome is Outcome.REFUSED and result.failed_step is Step.LINT
    assert result.lint.result(Rule.LIMIT).status is Status.FAIL
    assert (
        "2 of 2 CA certificates are already uploaded" in result.message
        and "delete one first" in result.message
    )
    assert len(s.ca_posts) == posts_before and len(_sim_cas(s)) == 2
    assert key_store.list() == []  # refused before the key step
    assert result.next_action.startswith("nothing was uploaded")


async def test_third_ca_refused_by_the_service(sim, key_store: CaKeyStore, monkeypatch) -> None:
    s: Sim = sim()
    for i in range(2):
        await s.api.mqtt.upload_ca(f"existing {i}", create_ca(f"existing {i}", "ec256").certificate_pem)

    async def stale_list():  # another admin uploaded meanwhile: our list is out of date
        return []

    monkeypatch.setattr(s.api.mqtt, "list_ca", stale_list)
    third = create_ca("Third", "ec256")
    result = await register_ca(s.api, third.certificate_pem, key=third.private_key, key_store=key_store)
    assert result.outcome is Outcome.REFUSED and result.failed_step is Step.UPLOAD
    assert "at most 2 CA certificates" in result.message
    assert "caCertificateLimitReached" in result.message
    assert len(_sim_cas(s)) == 2 and not result.uploaded


async def test_a_key_that_is_not_the_cas_is_refused_before_any_request(sim, key_store: CaKeyStore) -> None:
    s: Sim = sim()
    ca, other = create_ca("Mine", "ec256"), create_ca("Not mine", "rsa2048")
    result = await register_ca(s.api, ca.certificate_pem, key=other.private_key, key_store=key_store)
    assert result.outcome is Outcome.REFUSED and result.failed_step is Step.READ
    assert (
        result.message == "the private key does not belong to this CA certificate (their public keys differ)"
    )
    assert s.transport.calls == [] and _sim_cas(s) == [] and key_store.list() == []


async def test_a_key_store_failure_uploads_nothing(sim, tmp_path: Path) -> None:
    s: Sim = sim()

    def no_passphrase(create: bool) -> str:
        raise RuntimeError("no usable OS keyring and no vault")

    store = CaKeyStore.for_tenant(tmp_path, "demo", no_passphrase)
    ca = create_ca("CA", "ec256")
    result = await register_ca(s.api, ca.certificate_pem, key=ca.private_key, key_store=store)
    assert result.outcome is Outcome.REFUSED and result.failed_step is Step.SAVE_KEY
    assert "could not be kept, so nothing was uploaded" in result.message
    assert s.ca_posts == [] and _sim_cas(s) == []


async def test_lint_warnings_do_not_block_and_failures_do(sim, key_store: CaKeyStore) -> None:
    s: Sim = sim()
    key, long_lived = custom_ca(cn="two-year CA", days=730)
    result = await register_ca(s.api, pem(long_lived), key=key, key_store=key_store)
    assert result.outcome is Outcome.VERIFIED
    lint_step = {e.step: e for e in result.steps}[Step.LINT]
    assert lint_step.state is StepState.WARN and "about one year" in lint_step.detail
    assert lint_step.lint is not None and lint_step.lint.result(Rule.VALIDITY_LENGTH).status is Status.WARN
    bad_key, no_cert_sign = custom_ca(cn="no keyCertSign", key_cert_sign=False)
    refused = await register_ca(s.api, pem(no_cert_sign), key=bad_key, key_store=key_store)
    assert refused.outcome is Outcome.REFUSED and "keyCertSign" in refused.message
    assert len(_sim_cas(s)) == 1


async def test_api_errors_leave_a_clear_state(sim, key_store: CaKeyStore, monkeypatch) -> None:
    s: Sim = sim()

    async def broken_list():
        raise ServerError("the service is unavailable", status=503)

    monkeypatch.setattr(s.api.mqtt, "list_ca", broken_list)
    ca = create_ca("CA", "ec256")
    result = await register_ca(s.api, ca.certificate_pem, key=ca.private_key, key_store=key_store)
    assert result.outcome is Outcome.FAILED and result.failed_step is Step.LINT and not result.resumable
    assert "cannot be listed" in result.message and s.ca_posts == []


async def test_a_dropped_upload_answer_is_looked_up(sim, key_store: CaKeyStore, monkeypatch) -> None:
    s: Sim = sim()
    real_upload = s.api.mqtt.upload_ca

    async def upload_then_drop(*args, **kwargs):
        await real_upload(*args, **kwargs)
        raise TransportError("the connection was dropped after sending")

    monkeypatch.setattr(s.api.mqtt, "upload_ca", upload_then_drop)
    ca = create_ca("CA", "ec256")
    result = await register_ca(s.api, ca.certificate_pem, key=ca.private_key, key_store=key_store)
    assert result.outcome is Outcome.VERIFIED, result.message
    assert len(_sim_cas(s)) == 1


async def test_async_step_callback_and_lint_preview(sim, key_store: CaKeyStore) -> None:
    s: Sim = sim()
    seen: list[str] = []

    async def on_step(event: StepEvent) -> None:
        seen.append(f"{event.step}:{event.state}")

    ca = create_ca("CA", "ec256")
    preview = await lint_for_upload(s.api, ca.certificate_pem)
    assert preview.ok and "0 of 2 in use" in preview.result(Rule.LIMIT).detail
    result = await register_ca(
        s.api, ca.certificate, key=ca.private_key, key_store=key_store, on_step=on_step
    )
    assert result.ok and seen[0] == "read:running" and seen[-1] == "verify:ok"
    again = await lint_for_upload(s.api, ca.certificate_pem)
    assert again.result(Rule.NOT_UPLOADED).status is Status.FAIL


async def test_bad_names_and_unknown_ids(sim, key_store: CaKeyStore) -> None:
    s: Sim = sim()
    ca = create_ca("CA", "ec256")
    result = await register_ca(
        s.api, ca.certificate_pem, key=ca.private_key, key_store=key_store, name="n" * 129
    )
    assert result.outcome is Outcome.REFUSED and "1 to 128 characters" in result.message
    missing = await verify_ca(s.api, "0" * 32, key_store=key_store)
    assert missing.outcome is Outcome.FAILED and "cannot be read" in missing.message and not missing.resumable
    bad_type = await register_new_ca(s.api, "x", key_store=key_store, key_type="dsa1024")
    assert bad_type.outcome is Outcome.REFUSED and "unknown key type" in bad_type.message
    assert PASSPHRASE not in repr(result)


# -- issue 7 section 1: certificate validity is the service's, judged on its clock ------------------------
# This computer's clock is the real one; the simulator's is set off it, as a skewed local clock would be.


async def test_a_ca_made_by_the_services_clock_registers_from_a_slow_one(sim, key_store: CaKeyStore) -> None:
    """A local clock 30 min slow called a CA that started five minutes ago "not valid yet" and refused it."""
    s: Sim = sim(SimConfig(clock=lambda: time.time() + 1800))
    service_now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1800)
    material = create_ca("Made elsewhere", "ec256", 365, now=service_now)  # starts 5 min before that
    result = await register_ca(s.api, material.certificate, key=material.private_key, key_store=key_store)
    assert result.outcome is Outcome.VERIFIED, result.message
    assert s.api.tokens.clock_skew is not None and abs(s.api.tokens.clock_skew - 1800) < 60


async def test_certificates_made_on_a_fast_clock_start_in_the_services_past(
    sim, key_store: CaKeyStore, monkeypatch
) -> None:
    """A local clock 30 min fast made the new CA and its verification certificate start 25 min in the
    service's future."""
    import tui.flows.certificates as flows

    s: Sim = sim(SimConfig(clock=lambda: time.time() - 1800))
    made: list[dt.datetime] = []
    original = flows.make_verification_certificate

    def spy(*args, **kwargs):
        certificate = original(*args, **kwargs)
        made.append(certificate.not_valid_before_utc)
        return certificate

    monkeypatch.setattr(flows, "make_verification_certificate", spy)
    result = await register_new_ca(s.api, "Plant CA", key_store=key_store, key_type="ec256")
    assert result.outcome is Outcome.VERIFIED, result.message
    service_now = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1800)
    assert result.certificate.not_valid_before_utc <= service_now - dt.timedelta(minutes=4)
    assert made and made[0] <= service_now - dt.timedelta(minutes=4)
