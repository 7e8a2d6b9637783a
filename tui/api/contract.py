"""The client's contract with Insights Hub: every path, parameter, field, status and limit in one place.

Facts are from ``shared/reference/insights-hub-api.md``. Values marked ``UNCONFIRMED`` are not confirmed
by any public source; they follow the project's chosen contract (reference sections 5.3 and 7). A
correction against the real service is made here and nowhere else.
"""

from __future__ import annotations

# --------------------------------------------------------------------------------------------------
# Authentication (reference section 1)
# --------------------------------------------------------------------------------------------------
TOKEN_PATH = "/oauth/token"  # on {tenant}.piam.{region} (1.1)
TOKEN_KEYS_PATH = "/token_keys"  # (1.1)
TECH_TOKEN_PATH = "/api/technicaltokenmanager/v3/oauth/token"  # on the gateway (1.2)
TECH_TOKEN_MARKER = "technicaltokenmanager"  # a token URL containing this uses app credentials
GRANT_TYPE = "client_credentials"
SPACE_AUTH_HEADER = "X-SPACE-AUTH-KEY"  # (1.2); the SDK sends "Basic <b64>"; "Bearer" is a variant (7)
SPACE_AUTH_PREFIX = "Basic"
APP_BODY_FIELDS = ("appName", "appVersion", "hostTenant", "userTenant")  # (1.2)
TOKEN_FIELD = "access_token"
EXPIRES_IN_FIELD = "expires_in"
TOKEN_SCOPE_FIELD = "scope"
# JWT claims read for display only; the client relies on nothing but "exp" (1.4, 7).
CLAIM_EXP = "exp"
CLAIM_IAT = "iat"
CLAIM_SCOPE = "scope"
CLAIM_CLIENT_ID = "client_id"
CLAIM_CLIENT_ID_FALLBACKS = ("cid", "azp", "sub")
CLAIM_TENANT = "ten"  # UNCONFIRMED for service and app tokens (1.4)
CLAIM_TENANT_FALLBACK = "zid"  # UNCONFIRMED to equal the tenant (1.4)
REFRESH_MARGIN_S = 60.0  # project choice (1.3, 7): refresh 60 s before exp, and once on 401
DEFAULT_TOKEN_LIFETIME_S = 1800.0  # used only when neither exp nor expires_in is present (1.3)

# --------------------------------------------------------------------------------------------------
# Common (reference sections 0 and 6)
# --------------------------------------------------------------------------------------------------
CORRELATION_HEADER = "X-Correlation-ID"  # UNCONFIRMED response header name (6, 7)
RETRY_AFTER_HEADER = "Retry-After"  # UNCONFIRMED: no Siemens source shows it (6); honoured when present
DATE_HEADER = "Date"  # the server's clock (RFC 9110 6.6.1): HTTP-date Retry-After and skew are read from it
IF_MATCH = "If-Match"
IF_NONE_MATCH = "If-None-Match"
MERGE_PATCH_CONTENT_TYPE = "application/merge-patch+json"  # (0)
ERRORS_FIELD = "errors"  # error shape 1 (6)
ERROR_CODE_FIELD = "code"
ERROR_LOGREF_FIELD = "logref"
ERROR_MESSAGE_FIELD = "message"
ERROR_ID_FIELD = "id"  # shapes 2 and 3 (6)
OAUTH_ERROR_FIELD = "error"  # shape 3 (6)
OAUTH_ERROR_DESCRIPTION_FIELD = "error_description"
OAUTH_INVALID_CLIENT = "invalid_client"  # UNCONFIRMED token-endpoint error code (6)
# A persistent 401 from the gateway seen in the field: shape 3 with a bracketed id as error_description.
GATEWAY_TOKEN_VALIDATION_FAILED = "token_validation_failed"

STATUS_OK = 200
STATUS_CREATED = 201
STATUS_ACCEPTED = 202
STATUS_NO_CONTENT = 204
STATUS_NOT_MODIFIED = 304
STATUS_RATE_LIMITED = 429
RETRYABLE_STATUSES = frozenset({502, 503, 504})  # plus 429 for any method
# Statuses the client accepts as success for each operation (7: "accept ..." tolerated variants).
CREATE_STATUSES = (200, 201)  # UNCONFIRMED AM create status (2.1)
DELETE_STATUSES = (200, 204)  # UNCONFIRMED AM delete status (2.1)
UPDATE_STATUSES = (200,)  # PUT/PATCH return 200 + resource (2.1)
PATCH_VARIABLES_STATUSES = (200, 204)  # UNCONFIRMED (2.1, 7)
MISSING_IF_MATCH_STATUSES = (400, 428)  # UNCONFIRMED (2.1, 7)
REFUSED_DELETE_STATUSES = (400, 409)  # UNCONFIRMED (2.1, 7)

# --------------------------------------------------------------------------------------------------
# Asset Management v3 (reference section 2)
# --------------------------------------------------------------------------------------------------
AM_BASE = "/api/assetmanagement/v3"
AM_ASSETS = AM_BASE + "/assets"
AM_ASSET = AM_BASE + "/assets/{id}"
AM_ASSET_ROOT = AM_BASE + "/assets/root"
AM_ASSET_MOVE = AM_BASE + "/assets/{id}/move"  # UNCONFIRMED real path; the SDK posts to /assets/{id} (2.1)
AM_ASSET_ASPECTS = AM_BASE + "/assets/{id}/aspects"
AM_ASSET_VARIABLES = AM_BASE + "/assets/{id}/variables"
AM_ASSET_LOCATION = AM_BASE + "/assets/{id}/location"
AM_ASSET_TYPES = AM_BASE + "/assettypes"
AM_ASSET_TYPE = AM_BASE + "/assettypes/{id}"
AM_ASPECT_TYPES = AM_BASE + "/aspecttypes"
AM_ASPECT_TYPE = AM_BASE + "/aspecttypes/{id}"
AM_MOVE_FIELD = "newParentId"

# Paging (2.2). Embedded keys per endpoint.
PARAM_PAGE = "page"
PARAM_SIZE = "size"
PARAM_SORT = "sort"
PARAM_FILTER = "filter"
PARAM_INCLUDE_SHARED = "includeShared"
PARAM_EXPLODED = "exploded"
EMBEDDED = "_embedded"
PAGE = "page"
PAGE_NUMBER = "number"
PAGE_SIZE_FIELD = "size"
PAGE_TOTAL_ELEMENTS = "totalElements"
PAGE_TOTAL_PAGES = "totalPages"
SPRING_CONTENT = "content"  # UNCONFIRMED variant page shape (5.3 variants)
KEY_ASSETS = "assets"
KEY_ASSET_TYPES = "assetTypes"
KEY_ASPECT_TYPES = "aspectTypes"
KEY_ASPECTS = "aspects"
KEY_VARIABLES = "variables"
AM_MAX_PAGE_SIZE = 200  # docs recommend 200; UNCONFIRMED whether larger sizes are clamped or refused (2.2)
DEFAULT_SORT = "name,asc"  # (2.2, 7)

# Asset fields (2.4).
ASSET_ID = "assetId"
ASSET_PARENT_ID = "parentId"
ASSET_TYPE_ID = "typeId"
ROOT_TYPE_ID = "core.tenant"  # UNCONFIRMED (2.4)

# --------------------------------------------------------------------------------------------------
# IoT Time Series v3 (reference section 3)
# --------------------------------------------------------------------------------------------------
TS_BASE = "/api/iottimeseries/v3"
TS_PATH = TS_BASE + "/timeseries/{entity}/{aspect}"
TS_PARAM_FROM = "from"
TS_PARAM_TO = "to"
TS_PARAM_LIMIT = "limit"
TS_PARAM_SELECT = "select"
TS_PARAM_SORT = "sort"
TS_PARAM_LATEST = "latestValue"
TS_TIME = "_time"
TS_QC_SUFFIX = "_qc"
TS_MAX_LIMIT = 2000  # UNCONFIRMED maximum (3.1, 7); larger ranges are paged with Link
TS_WRITE_STATUSES = (200, 202, 204)  # UNCONFIRMED (3.2, 7)
TS_DELETE_STATUSES = (200, 204)  # UNCONFIRMED (3.3, 7)
TS_QC_GOOD, TS_QC_UNCERTAIN, TS_QC_BAD = 0, 1, 2  # classes by the OPC UA top bits 0x00/0x40/0x80 (3.1)
TS_STRING_MAX = 255  # STRING length limit unless the variable declares one (3.2)
TS_BIG_STRING_MAX = 100_000  # (3.2)
# Longest range the client asks for in one chart or `ihub ts get` (project choice, UNCONFIRMED: no
# public source states a read-range limit for IoT Time Series v3; aggregates are split per 4).
TS_MAX_RANGE_S = 10 * 366 * 86_400
LINK_HEADER = "Link"
LINK_NEXT_REL = "next"

# --------------------------------------------------------------------------------------------------
# IoT TS Aggregates v4 (reference section 4)
# --------------------------------------------------------------------------------------------------
AGG_PATH = "/api/iottsaggregates/v4/aggregates"
AGG_PARAM_ASSET = "assetId"
AGG_PARAM_ASPECT = "aspectName"
AGG_PARAM_FROM = "from"
AGG_PARAM_TO = "to"
AGG_PARAM_INTERVAL_VALUE = "intervalValue"
AGG_PARAM_INTERVAL_UNIT = "intervalUnit"
AGG_PARAM_SELECT = "select"
AGG_PARAM_COUNT = "count"
AGG_FIELD = "aggregates"
AGG_START = "starttime"
AGG_END = "endtime"
# Allowed interval values per unit (4).
AGG_INTERVALS: dict[str, frozenset[int]] = {
    "minute": frozenset(range(2, 61, 2)),
    "hour": frozenset(range(1, 25)),
    "day": frozenset(range(1, 91)),
    "week": frozenset(range(1, 13)),
    "month": frozenset(range(1, 4)),
}
# Maximum time range of one request per interval unit (4): 24 h for minutes, 7 days for hours, 90 days
# for days, weeks and months. Longer ranges are split into several requests.
AGG_RANGE_LIMIT_S: dict[str, int] = {
    "minute": 86_400,
    "hour": 7 * 86_400,
    "day": 90 * 86_400,
    "week": 90 * 86_400,
    "month": 90 * 86_400,
}
# Nominal unit lengths in seconds (a month counts 30 days; the service uses calendar months).
AGG_UNIT_S: dict[str, int] = {
    "minute": 60,
    "hour": 3600,
    "day": 86_400,
    "week": 7 * 86_400,
    "month": 30 * 86_400,
}
AGG_NUMERIC_TYPES = frozenset({"DOUBLE", "INT", "LONG"})  # UNCONFIRMED: only numbers are aggregated (4)
AGG_STAT_FIELDS = (
    "countgood",
    "countuncertain",
    "countbad",
    "sum",
    "average",
    "minvalue",
    "mintime",
    "maxvalue",
    "maxtime",
    "firstvalue",
    "firsttime",
    "lastvalue",
    "lasttime",
    "sd",
)

# --------------------------------------------------------------------------------------------------
# MindConnect MQTT v3 certificates (reference section 5.3). All UNCONFIRMED except
# POST /agentCertificates (path, request body, flat response fields: D:mqtt-agentcert).
# --------------------------------------------------------------------------------------------------
MQTT_BASE = "/api/mindconnectmqtt/v3"
MQTT_CA_CERTS = MQTT_BASE + "/caCertificates"  # UNCONFIRMED (5.3); variant: /cacertificates
MQTT_CA_CERT = MQTT_BASE + "/caCertificates/{id}"  # UNCONFIRMED (5.3)
MQTT_CA_REGISTRATION_CODE = MQTT_BASE + "/caCertificates/{id}/registrationCode"  # UNCONFIRMED (5.3)
MQTT_CA_VERIFY = MQTT_BASE + "/caCertificates/{id}/verify"  # UNCONFIRMED (5.3); variant: PUT
MQTT_CA_VERIFY_METHOD = "POST"  # UNCONFIRMED (5.3)
MQTT_AGENT_CERTS = MQTT_BASE + "/agentCertificates"  # confirmed for POST (5.1)
MQTT_AGENT_CERT = MQTT_BASE + "/agentCertificates/{id}"  # UNCONFIRMED (5.3)
KEY_CA_CERTIFICATES = "caCertificates"  # UNCONFIRMED embedded key (5.3)
KEY_AGENT_CERTIFICATES = "agentCertificates"  # UNCONFIRMED embedded key (5.3)
# Request fields (5.3).
CA_NAME = "name"
CA_DESCRIPTION = "description"
CA_PEM = "caCertificate"  # UNCONFIRMED (5.3)
CA_VERIFICATION_PEM = "verificationCertificate"  # UNCONFIRMED (5.3)
CA_REGISTRATION_CODE = "registrationCode"  # UNCONFIRMED (5.3)
AGENT_NAME = "name"
AGENT_OWNER = "owner"
AGENT_NAME_MAX = 64  # UNCONFIRMED (5.3)
CA_NAME_MAX = 128  # UNCONFIRMED (5.3)
CA_STATUS_VERIFIED = ("VERIFIED", "ACTIVE")  # UNCONFIRMED; "ACTIVE" is a listed variant (5.3)
CA_STATUS_NOT_VERIFIED = ("NOT_VERIFIED", "INACTIVE")  # UNCONFIRMED; "INACTIVE" is a variant (5.3)
CA_CREATE_STATUSES = (200, 201)  # UNCONFIRMED (5.3: 201)
CA_DELETE_STATUSES = (200, 204)  # UNCONFIRMED (5.3: 204)
AGENT_CREATE_STATUSES = (200, 201)  # UNCONFIRMED (5.1, 5.3: 201)
AGENT_DELETE_STATUSES = (200, 204)  # UNCONFIRMED (5.3: 204)
CA_LIMIT = 2  # at most two CA certificates per environment (5.1)
CA_LIMIT_CODE = "mdsp.core.mindconnectmqtt.caCertificateLimitReached"  # UNCONFIRMED (5.3)
# CaCertificate resource fields (5.3, UNCONFIRMED) and tolerated variants.
CA_F_ID = "id"
CA_F_NAME = "name"
CA_F_DESCRIPTION = "description"
CA_F_STATUS = "status"
CA_F_SUBJECT = "subject"
CA_F_ISSUER = "issuer"
CA_F_SERIAL = "serialNumber"
CA_F_VALID_FROM = "validFrom"
CA_F_VALID_TO = "validTo"
CA_F_VALIDITY = "validity"  # variant: {"notBefore", "notAfter"}
CA_F_NOT_BEFORE = "notBefore"
CA_F_NOT_AFTER = "notAfter"
CA_F_FINGERPRINT = "fingerprintSha256"
CA_F_ETAG = "etag"
CA_F_CREATED_AT = "createdAt"
# Agent certificate fields: flat (D:mqtt-agentcert) or nested under "credentials" (MQTT-sample-new).
AGENT_F_ID = "id"
AGENT_F_NAME = "name"
AGENT_F_CLIENT_ID = "clientId"
AGENT_F_AGENT_NAME = "agentName"
AGENT_F_AGENT_ID = "agentId"
AGENT_F_AGENT_ID_VARIANT = "agentid"  # one copy of the docs spells it so
AGENT_F_OWNER = "owner"
AGENT_F_STATUS = "status"
AGENT_F_PRIVATE_KEY = "privateKey"
AGENT_F_PUBLIC_KEY = "publicKey"  # holds the certificate PEM
AGENT_F_CREDENTIALS = "credentials"
AGENT_F_CERTIFICATE_PEM = "certificatePem"

# The MindConnect MQTT broker (reference 5.1, 5.2), as `ihub certs check` and `ihub certs publish` use it.
MQTT_BROKER_EU1 = ("mindconnectmqtt.eu1.mindsphere.io", 8883)  # TLS with client certificates (5.2)
MQTT_PROTOCOL_LEVEL = 4  # MQTT 3.1.1 (5.2)
MQTT_CLIENT_ID = "{tenant}_{common_name}"  # Europe 1 and private cloud; Europe 2: the CN alone (5.1)
MQTT_TS_TOPIC = "tc/{tenant}/{client_id}/o/mc_v3/ts"  # agent to cloud, time series (5.2)
# Time-series payload (5.2): {"timeseries":[{"timestamp","values":[{"dataPointId","value","qualityCode"}]}]};
# values and quality codes are strings.
MQTT_TS_KEY = "timeseries"
MQTT_TS_TIMESTAMP = "timestamp"
MQTT_TS_VALUES = "values"
MQTT_TS_DATA_POINT = "dataPointId"
MQTT_TS_VALUE = "value"
MQTT_TS_QUALITY = "qualityCode"
MQTT_TS_GOOD_QUALITY = "0"
# The data point of the check's test message (`ihub certs check --publish`). Project choice: the simulator
# maps it on every agent asset (AgentData.heartbeat); a real tenant drops it unless it is mapped, and still
# acknowledges the message, which is all the check looks at.
MQTT_CHECK_DATA_POINT = "heartbeat"
# The simulator's agents (tui/sim/agents.py, project contract): an asset per client id with the dynamic
# aspect "AgentData"; every data point is mapped to the variable of the same name.
MQTT_SIM_AGENT_ASPECT = "AgentData"
# CONNACK return codes (MQTT 3.1.1) and what the simulator means by them. UNCONFIRMED for the real broker:
# EU1 is backed by AWS IoT, which closes the connection instead of answering CONNACK 2 or 5.
MQTT_CONNACK_IDENTIFIER_REJECTED = 2  # wrong client id, or the client id is already connected
MQTT_CONNACK_NOT_AUTHORIZED = 5  # certificate not (or no longer) acceptable: CA not verified, agent deleted

# Asset Management: sharing (2.1, 2.4) and data types (2.5).
SHARING_SHARER = "SHARER"
SHARING_RECEIVER = "RECEIVER"
# UNCONFIRMED: that ``tenantId`` of an asset shared into the tenant (mode RECEIVER) names the owning
# tenant. No public source shows a received asset; the SDK's SharingResource has only ``modes``.
ASSET_OWNER_TENANT_FIELD = "tenantId"  # an asset field read as the owner tenant (Asset.owner_tenant)
FILTER_HAS_TYPE = "hasType"  # the type or any type derived from it (2.3)
NUMERIC_DATA_TYPES = frozenset({"INT", "LONG", "DOUBLE"})  # (2.5)
