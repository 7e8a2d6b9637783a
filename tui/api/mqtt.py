"""MindConnect MQTT v3 certificates (reference section 5.3; all UNCONFIRMED but POST /agentCertificates).

Tolerated variants (5.3): a Spring page (``content``) instead of HAL, ``validity{notBefore,notAfter}``,
``ACTIVE``/``INACTIVE`` statuses, 200 or 201 on create and 200 or 204 on delete, and agent certificates
in the flat shape or under ``credentials``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from tui.api import contract as C
from tui.api.errors import ApiError, ResponseFormatError
from tui.api.models import AgentCertificate, CaCertificate, Etag, agent_credentials, etag_header

if TYPE_CHECKING:
    from tui.api.client import ApiClient

AGENT_NAME_RE = re.compile(rf"^[A-Za-z0-9_.-]{{1,{C.AGENT_NAME_MAX}}}$")


def is_ca_limit_error(exc: BaseException) -> bool:
    """The service refused an upload because the CA certificate limit is reached: ``400`` with the code
    ``C.CA_LIMIT_CODE`` (5.3), or the listed variant ``409`` / another code that names the limit."""
    if not isinstance(exc, ApiError) or exc.status not in (400, 409):
        return False
    if exc.code == C.CA_LIMIT_CODE:
        return True
    text = f"{exc.code or ''} {exc.message or ''}".lower()
    return "limit" in text and ("ca" in text or "certificate" in text)


class MqttCertificates:
    def __init__(self, client: ApiClient) -> None:
        self._c = client

    # -- CA certificates ----------------------------------------------------------------------------

    async def list_ca(self) -> list[CaCertificate]:
        return [
            CaCertificate.from_json(i)
            async for i in self._c.paginate_hal(
                C.MQTT_CA_CERTS, C.KEY_CA_CERTIFICATES, page_size=C.AM_MAX_PAGE_SIZE
            )
        ]

    async def get_ca(self, cert_id: str) -> CaCertificate:
        return CaCertificate.from_json(await self._c.get_json(C.MQTT_CA_CERT.format(id=cert_id)))

    async def upload_ca(self, name: str, pem: str, description: str | None = None) -> CaCertificate:
        name = name.strip()
        if not 1 <= len(name) <= C.CA_NAME_MAX:
            raise ValueError(f"the name must be 1 to {C.CA_NAME_MAX} characters")
        if "-----BEGIN CERTIFICATE-----" not in pem:
            raise ValueError("not a PEM certificate (no BEGIN CERTIFICATE line)")
        body = {C.CA_NAME: name, C.CA_PEM: pem}
        if description:
            body[C.CA_DESCRIPTION] = description
        data = await self._c.send_json("POST", C.MQTT_CA_CERTS, json=body, expected=C.CA_CREATE_STATUSES)
        return CaCertificate.from_json(data)

    async def registration_code(self, cert_id: str) -> str:
        data = await self._c.get_json(C.MQTT_CA_REGISTRATION_CODE.format(id=cert_id))
        code = (
            data.get(C.CA_REGISTRATION_CODE)
            if isinstance(data, dict)
            else data
            if isinstance(data, str)
            else None
        )
        if not isinstance(code, str) or not code:
            raise ResponseFormatError("the registration code response has no registrationCode")
        return code

    async def verify_ca(self, cert_id: str, verification_pem: str) -> CaCertificate:
        if "-----BEGIN CERTIFICATE-----" not in verification_pem:
            raise ValueError("not a PEM certificate (no BEGIN CERTIFICATE line)")
        data = await self._c.send_json(
            C.MQTT_CA_VERIFY_METHOD,
            C.MQTT_CA_VERIFY.format(id=cert_id),
            json={C.CA_VERIFICATION_PEM: verification_pem},
            expected=(200, 201, 204),
        )
        if data is None:  # tolerate an empty answer: read the certificate back
            return await self.get_ca(cert_id)
        return CaCertificate.from_json(data)

    async def delete_ca(self, cert_id: str, etag: Etag) -> None:
        await self._c.request(
            "DELETE",
            C.MQTT_CA_CERT.format(id=cert_id),
            headers={C.IF_MATCH: etag_header(etag)},
            expected=C.CA_DELETE_STATUSES,
        )

    # -- agent certificates -------------------------------------------------------------------------

    async def list_agent_certs(self) -> list[AgentCertificate]:
        return [
            AgentCertificate.from_json(i)
            async for i in self._c.paginate_hal(
                C.MQTT_AGENT_CERTS, C.KEY_AGENT_CERTIFICATES, page_size=C.AM_MAX_PAGE_SIZE
            )
        ]

    async def get_agent_cert(self, cert_id: str) -> AgentCertificate:
        return AgentCertificate.from_json(await self._c.get_json(C.MQTT_AGENT_CERT.format(id=cert_id)))

    async def create_agent_cert(
        self,
        name: str,
        owner: str | None = None,
        *,
        keep: Callable[[str | None, str], Awaitable[object] | object] | None = None,
    ) -> AgentCertificate:
        """Create an auto-generated agent certificate (``POST /agentCertificates``, reference 5.1, 5.3).

        The private key is returned only in this response. ``keep(certificate_pem, private_key_pem)`` is
        called (and awaited if it returns an awaitable) with the PEMs of either response shape **before**
        the response is parsed any further, so a response the model cannot read still has its key saved;
        if ``keep`` raises, the error propagates. ``ResponseFormatError`` when the response holds no key.
        """
        if not AGENT_NAME_RE.match(name):
            raise ValueError(
                f"the agent name must be 1 to {C.AGENT_NAME_MAX} letters, digits, '_', '-' or '.'"
            )
        body = {C.AGENT_NAME: name}
        if owner:
            body[C.AGENT_OWNER] = owner
        data = await self._c.send_json(
            "POST", C.MQTT_AGENT_CERTS, json=body, expected=C.AGENT_CREATE_STATUSES
        )
        certificate_pem, private_key = agent_credentials(data)
        if not private_key:
            raise ResponseFormatError("the agent certificate response holds no private key")
        if keep is not None:
            kept = keep(certificate_pem, private_key)
            if inspect.isawaitable(kept):
                await kept
        return AgentCertificate.from_json(data)

    async def delete_agent_cert(self, cert_id: str) -> None:
        await self._c.request(
            "DELETE", C.MQTT_AGENT_CERT.format(id=cert_id), expected=C.AGENT_DELETE_STATUSES
        )
