"""`make mc-check`: Siemens' own `mc` CLI against the simulator, one command to keep it working.

``python -m tui.devtools.mc_check --mc .cache/mc/node_modules/.bin/mc`` (the Makefile installs
``@mindconnect/mindconnect-nodejs`` 3.24.2 there with npm) starts the simulator in-process on loopback
(``SimServer``, a free port, the real clock: mc checks each token's ``exp`` against it), gives mc a
temporary HOME, registers the simulator's demo app credentials with ``mc service-credentials`` and runs
a list of mc commands. Each is checked by its exit code and a key line of its output, compared where it
counts with what the simulator itself serves (``Oracle``: the same HTTP API asked with httpx). It prints a
table (command, rc, ok/FAIL, seconds, the key line) and exits 1 when any command fails, 2 when the check
cannot run (no mc, the simulator does not start). Not part of ``make test``: it needs npm.

What mc 3.24.2 expects of a server is reference section 8. Time series ranges are read around the demo's
reference instant (``DEMO_INSTANT``, 2025-06-16 08:00 UTC): the data there is fixed by the seed.

mc commands left out, and why (outside the simulator's scope: Asset Management v3, IoT Time Series v3,
Aggregates v4, tokens, MindConnect MQTT certificates; plus the read-only event and file listings that
``mc asset-info`` needs):
- ``onboard``, ``configure-agent``, ``agent-token``, ``agent-status``, ``upload-timeseries``,
  ``upload-file``, ``create-event``, ``create-agent``, ``offboard-agent``, ``renew-agent`` and the
  diagnostic commands: MindConnect Agent Management and Exchange APIs (agents with shared secrets), not
  MindConnect MQTT; the simulator serves no agent onboarding.
- ``prepare-bulk``, ``run-bulk``, ``check-bulk``, ``download-bulk``: the IoT Time Series Bulk API.
- ``event-types``, ``events --mode create|delete``, ``events-bulk``: Event Management beyond the read-only
  listing (the simulated tenant records no events).
- ``list-files``, ``download-file``, ``delete-file``: IoT File Service beyond the read-only search.
- ``mqtt-createjwt``: builds a JWT locally for OPC UA PubSub over MQTT; no API call, and the simulator's
  broker authenticates devices by client certificate (reference 5.4). mc has no command for CA or agent
  certificates (reference 5.4), so MindConnect MQTT is not exercised here.
- ``dev-proxy``: a long-running local proxy, not a command with a result.
- every other group (identity, tenant, subtenants, SDI, data lake, jobs, models, open edge, cases,
  notifications, message broker, data exchange, policy, VFC, mobile apps, delivery jobs): other services.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_INSTANT, SimConfig
from tui.sim.server import SimServer, SimServerError

PUMP_NAME = "Pump ER-1104"  # a pump of the demo plant with the 1 Hz aspect
ASPECT = "Vibration"
COMMAND_TIMEOUT_S = 120.0
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
JWT = re.compile(r"eyJ[\w-]*\.[\w-]+\.[\w-]+")  # access tokens never reach the report
# Proxy settings would send mc's loopback requests elsewhere.
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


def iso(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


class CheckFailed(Exception):
    """A command ran but its output is not what the simulator serves."""


# ---------------------------------------------------------------- what the simulator serves


class Oracle:
    """The simulator's own answers, over its HTTP API with the demo app credentials (httpx)."""

    def __init__(self, url: str, client_id: str, client_secret: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=30.0, trust_env=False)
        response = self.client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, client_secret)
        )
        response.raise_for_status()
        self.client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def close(self) -> None:
        self.client.close()

    def json(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def status(self, path: str) -> int:
        return self.client.get(path).status_code

    def total(self, path: str, **params: Any) -> int:
        """``page.totalElements`` of a HAL listing."""
        return int(self.json(path, size=1, **params)["page"]["totalElements"])

    def signing_kid(self) -> str:
        return str(self.client.get("/token_keys").json()["keys"][0]["kid"])

    def asset(self, name: str) -> dict[str, Any]:
        body = self.json("/api/assetmanagement/v3/assets", filter=json.dumps({"name": name}))
        (asset,) = body["_embedded"]["assets"]
        return dict(asset)

    def aspect_type_id(self, asset_id: str, aspect: str) -> str:
        body = self.json(f"/api/assetmanagement/v3/assets/{asset_id}/aspects", size=200)
        return str(next(a["aspectTypeId"] for a in body["_embedded"]["aspects"] if a["name"] == aspect))

    def record_count(self, asset_id: str, aspect: str, start: str, end: str) -> int:
        """Records of (start, end], following the ``Link`` header as mc does (reference 3.1, 8)."""
        count = 0
        url: str | None = f"/api/iottimeseries/v3/timeseries/{asset_id}/{aspect}"
        params: dict[str, Any] | None = {"from": start, "to": end, "limit": 2000}
        while url:
            response = self.client.get(url, params=params)
            response.raise_for_status()
            count += len(response.json())
            url = response.links.get("next", {}).get("url")
            params = None
        return count

    def aggregate_count(self, asset_id: str, aspect: str, start: str, end: str, unit: str) -> int:
        body = self.json(
            "/api/iottsaggregates/v4/aggregates",
            assetId=asset_id,
            aspectName=aspect,
            **{"from": start, "to": end, "intervalValue": 1, "intervalUnit": unit},
        )
        return len(body["aggregates"])


# ---------------------------------------------------------------- running mc


@dataclass
class Run:
    rc: int | None  # None: it did not run to its end (see ``problem``)
    output: str  # standard output and error, without colours
    seconds: float
    problem: str = ""  # why there is no exit code


class Mc:
    """The mc executable with its own HOME, passkey and working folder."""

    def __init__(self, executable: Path, home: Path, passkey: str) -> None:
        self.executable = executable
        self.home = home
        self.workdir = home / "work"
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
        env.update(
            HOME=str(home),
            USERPROFILE=str(home),
            MDSP_PASSKEY=passkey,
            NO_PROXY="127.0.0.1,localhost,::1",
            FORCE_COLOR="0",
            NO_COLOR="1",
        )
        self.env = env

    def run(self, args: list[str]) -> Run:
        started = time.monotonic()
        try:
            done = subprocess.run(  # noqa: S603 - the mc given on our command line, fixed arguments
                [str(self.executable), *args],
                cwd=self.workdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT_S,
            )
        except OSError as exc:  # not executable after all, no node on PATH
            return Run(
                None, "", time.monotonic() - started, f"cannot run {self.executable}: {exc.strerror or exc}"
            )
        except subprocess.TimeoutExpired as exc:
            partial = (exc.stdout or b"") + (exc.stderr or b"")
            text = partial.decode(errors="replace") if isinstance(partial, bytes) else str(partial)
            return Run(
                None, ANSI.sub("", text), time.monotonic() - started, f"timed out after {exc.timeout:.0f} s"
            )
        return Run(done.returncode, ANSI.sub("", done.stdout + done.stderr), time.monotonic() - started)


# ---------------------------------------------------------------- the checks


Check = Callable[[str], str]  # output -> the key line shown in the table; raises CheckFailed


@dataclass
class Step:
    label: str  # as shown in the table (ids abbreviated)
    args: Callable[[], list[str]]
    check: Check
    before: Callable[[], None] | None = None  # e.g. edit a template mc wrote, as its help asks


@dataclass
class Result:
    label: str
    rc: int | None
    ok: bool
    seconds: float
    detail: str
    output: str = field(repr=False, default="")


def tidy(line: str) -> str:
    return " ".join(line.split())


def line_with(pattern: str) -> Callable[[str], re.Match[str]]:
    """The first match of ``pattern`` in a line of the output (``match.string``: that whole line)."""
    regex = re.compile(pattern)

    def find(output: str) -> re.Match[str]:
        for line in output.splitlines():
            match = regex.search(tidy(line))
            if match:
                return match
        raise CheckFailed(f"no line matching {pattern!r}")

    return find


def expect_count(pattern: str, expected: Callable[[], int]) -> Check:
    """A line ``pattern`` whose first group is the number the simulator serves."""
    find = line_with(pattern)

    def check(output: str) -> str:
        match = find(output)
        want = expected()
        if int(match.group(1)) != want:
            raise CheckFailed(f"{match.string!r}, but the simulator serves {want}")
        return match.string

    return check


def expect_line(pattern: str) -> Check:
    find = line_with(pattern)
    return lambda output: find(output).string


def expect_lines(*patterns: str) -> Check:
    """Every pattern on a line of its own (a command that must run to its end); shows the first line."""
    finders = [line_with(p) for p in patterns]

    def check(output: str) -> str:
        return [find(output) for find in finders][0].string

    return check


class McCheck:
    """The steps, in order; later steps use ids that earlier ones created."""

    def __init__(self, server: SimServer, oracle: Oracle, mc: Mc, passkey: str) -> None:
        self.server = server
        self.oracle = oracle
        self.mc = mc
        self.passkey = passkey
        self.tenant = server.config.tenant
        self.created: dict[str, str] = {}
        pump = oracle.asset(PUMP_NAME)
        self.pump: str = pump["assetId"]
        self.pump_type: str = pump["typeId"]
        self.aspect_type = oracle.aspect_type_id(self.pump, ASPECT)
        self.root: str = oracle.json("/api/assetmanagement/v3/assets/root")["assetId"]
        demo = datetime.fromtimestamp(DEMO_INSTANT, UTC)
        self.ten_minutes = (iso(demo - timedelta(hours=1)), iso(demo - timedelta(minutes=50)))
        self.one_hour = (iso(demo - timedelta(hours=1)), iso(demo))
        midnight = demo.replace(hour=0, minute=0, second=0)
        self.day_before = (iso(midnight - timedelta(days=1)), iso(midnight))
        self.aspect_name = "McCheck"  # an aspect type of the tenant: <tenant>.McCheck
        self.type_name = "McCheckType"

    # ---- helpers for the checks

    def created_id(self, key: str, name: str) -> Check:
        """``Asset with assetid <id> was created.``; the simulator has the asset under that name."""
        find = line_with(r"Asset with assetid ([0-9a-f]{32}) was created")

        def check(output: str) -> str:
            match = find(output)
            asset_id = match.group(1)
            served = self.oracle.json(f"/api/assetmanagement/v3/assets/{asset_id}")["name"]
            if served != name:
                raise CheckFailed(f"the simulator names asset {asset_id} {served!r}, not {name!r}")
            self.created[key] = asset_id
            return match.string

        return check

    def served(self, path: Callable[[], str], pattern: str, status: int) -> Check:
        """A line ``pattern`` and the simulator answering ``status`` at ``path`` afterwards."""
        find = line_with(pattern)

        def check(output: str) -> str:
            line = find(output).string
            got = self.oracle.status(path())
            if got != status:
                raise CheckFailed(f"{line!r}, but GET {path()} answers {got}, not {status}")
            return line

        return check

    def token_check(self, output: str) -> str:
        """The token mc prints is the simulator's: signed with the key ``token_keys`` lists first."""
        found = JWT.search(output)
        if found is None:
            raise CheckFailed("no JWT in the output")
        token = found.group(0)
        header, payload = (
            json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in token.split(".")[:2]
        )
        if header.get("alg") != "RS256" or header.get("kid") != self.oracle.signing_kid():
            raise CheckFailed("the token is not RS256 with the kid of the first key in token_keys")
        if payload.get("ten") != self.tenant or payload.get("client_id") != DEMO_CLIENT_ID:
            raise CheckFailed(f"token of {payload.get('client_id')!r} in tenant {payload.get('ten')!r}")
        return f"RS256 JWT of {payload['client_id']}, tenant {payload['ten']}, kid = token_keys[0]"

    def credentials_stored(self, output: str) -> str:
        auth = self.mc.home / ".mc" / "auth.json"
        if not auth.is_file() or self.server.url not in auth.read_text():
            raise CheckFailed(f"no credentials for {self.server.url} in {auth}")
        return "app credentials stored in ~/.mc/auth.json"

    def need(self, key: str) -> str:
        """The id of what an earlier step created."""
        if key not in self.created:
            raise ValueError(f"needs the {key} an earlier step creates")
        return self.created[key]

    def file_written(self, name: str) -> Check:
        find = line_with(r"The data was written into (\S+)")

        def check(output: str) -> str:
            line = find(output).string
            if not (self.mc.workdir / name).is_file():
                raise CheckFailed(f"{line!r}, but {name} is missing")
            return line

        return check

    def edit_json(self, name: str, change: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        def edit() -> None:
            path = self.mc.workdir / name
            body = json.loads(path.read_text())
            change(body)
            path.write_text(json.dumps(body, indent=2))

        return edit

    @staticmethod
    def aspect_template_fix(body: dict[str, Any]) -> None:
        # mc's template marks every variable of its *dynamic* aspect searchable; reference 2.5 (and the
        # simulator) allow searchable only on static properties, and the SDK documents it as "only usable
        # for static properties". The template is meant to be edited ("Edit the file before submitting").
        for variable in body["variables"]:
            variable["searchable"] = False

    def asset_type_template_fix(self, body: dict[str, Any]) -> None:
        # The template names an aspect type (mdsp.wing) and a logo file of Siemens' example tenant.
        body["aspects"] = [{"name": "check", "aspectTypeId": f"{self.tenant}.{self.aspect_name}"}]
        body["fileAssignments"] = []

    # ---- the list

    def steps(self) -> list[Step]:
        t = self.tenant
        url = self.server.url
        aspect_id = f"{t}.{self.aspect_name}"
        type_id = f"{t}.{self.type_name}"
        am = "/api/assetmanagement/v3"
        o = self.oracle
        ts_args = ["-i", self.pump, "-n", ASPECT]
        return [
            Step(
                "sc --mode add --type APP (demo app credentials)",
                lambda: [
                    *"sc --mode add --type APP --user".split(),
                    DEMO_CLIENT_ID,
                    "--password",
                    DEMO_CLIENT_SECRET,
                    *["--gateway", url, "--tenant", t, "--usertenant", t],
                    *"--appName ihub --appVersion 1.0.0".split(),
                    "--passkey",
                    self.passkey,
                ],
                self.credentials_stored,
            ),
            Step("sc --mode list", lambda: ["sc", "--mode", "list"], expect_line(re.escape(url))),
            Step("service-token", lambda: ["service-token"], self.token_check),
            Step(
                "list-assets",
                lambda: ["list-assets"],
                expect_count(r"(\d+) assets listed", lambda: o.total(f"{am}/assets")),
            ),
            Step(
                "assets --mode tree",
                lambda: ["assets", "--mode", "tree"],
                expect_line(rf"\[{self.pump}\] {re.escape(PUMP_NAME)}"),
            ),
            Step(
                "asset-info --assetid <pump>",
                lambda: ["asset-info", "--assetid", self.pump],
                # To its end: the asset, its aspects with the latest values, its events and its files.
                expect_lines(
                    rf"Asset Information for Asset with Asset Id: {self.pump}",
                    r"Last Timeseries Entry:",
                    r"Last Event Entries:",
                    r"Last uploaded Files:",
                    r"Asset Manager:",
                ),
            ),
            Step(
                "asset-types",
                lambda: ["asset-types"],
                expect_count(r"(\d+) asset types listed", lambda: o.total(f"{am}/assettypes")),
            ),
            Step(
                f"asset-types --mode info --assettype {self.pump_type}",
                lambda: ["asset-types", "--mode", "info", "--assettype", self.pump_type],
                expect_line(rf'"id": "{re.escape(self.pump_type)}"'),
            ),
            Step(
                "aspects",
                lambda: ["aspects"],
                expect_count(r"(\d+) aspects listed", lambda: o.total(f"{am}/aspecttypes")),
            ),
            Step(
                f"aspects --mode info --aspect {self.aspect_type}",
                lambda: ["aspects", "--mode", "info", "--aspect", self.aspect_type],
                expect_line(rf'"id": "{re.escape(self.aspect_type)}"'),
            ),
            Step(
                f"timeseries -i <pump> -n {ASPECT} (10 min)",
                lambda: ["timeseries", *ts_args, "-f", self.ten_minutes[0], "-t", self.ten_minutes[1]],
                expect_count(
                    r"There were (\d+) timeseries entries",
                    lambda: o.record_count(self.pump, ASPECT, *self.ten_minutes),
                ),
            ),
            Step(
                f"timeseries -i <pump> -n {ASPECT} (1 h, Link paging)",
                lambda: ["timeseries", *ts_args, "-f", self.one_hour[0], "-t", self.one_hour[1]],
                expect_count(
                    r"There were (\d+) timeseries entries",
                    lambda: o.record_count(self.pump, ASPECT, *self.one_hour),
                ),
            ),
            Step(
                f"aggregates -i <pump> -n {ASPECT} -r 1 -u hour (1 day)",
                lambda: [
                    "aggregates",
                    *ts_args,
                    *f"-f {self.day_before[0]} -t {self.day_before[1]} -r 1 -u hour".split(),
                ],
                expect_count(
                    r"(\d+) aggregates listed",
                    lambda: o.aggregate_count(self.pump, ASPECT, *self.day_before, "hour"),
                ),
            ),
            Step(
                "events --mode list --assetid <pump>",
                lambda: ["events", "--mode", "list", "--assetid", self.pump],
                expect_count(
                    r"(\d+) events listed",
                    lambda: o.total(
                        "/api/eventmanagement/v3/events", filter=json.dumps({"entityId": self.pump})
                    ),
                ),
            ),
            Step(
                "asset-lock --mode info",
                lambda: ["asset-lock", "--mode", "info"],
                expect_line(r"is unlocked"),
            ),
            Step(
                "asset-lock --mode lock",
                lambda: ["asset-lock", "--mode", "lock"],
                expect_line(r"is locked\. Modifications are blocked"),
            ),
            Step(
                "asset-lock --mode unlock",
                lambda: ["asset-lock", "--mode", "unlock"],
                expect_line(r"is unlocked"),
            ),
            # Writes: an area under the root, then an aspect type, an asset type and an asset of it from mc's
            # templates, each deleted again.
            Step(
                "assets --mode create --typeid core.basicarea",
                lambda: [
                    *"assets --mode create --typeid core.basicarea --assetname McCheckArea".split(),
                    *["--parentid", self.root],
                ],
                self.created_id("area", "McCheckArea"),
            ),
            Step(
                f"aspects --mode template --aspect {self.aspect_name}",
                lambda: ["aspects", "--mode", "template", "--aspect", self.aspect_name],
                self.file_written(f"{self.aspect_name}.aspect.mdsp.json"),
            ),
            Step(
                "aspects --mode create --file (template, searchable off)",
                lambda: ["aspects", "--mode", "create", "--file", f"{self.aspect_name}.aspect.mdsp.json"],
                self.served(lambda: f"{am}/aspecttypes/{aspect_id}", re.escape(aspect_id), 200),
                before=self.edit_json(f"{self.aspect_name}.aspect.mdsp.json", self.aspect_template_fix),
            ),
            Step(
                f"asset-types --mode template --assettype {self.type_name}",
                lambda: ["asset-types", "--mode", "template", "--assettype", self.type_name],
                self.file_written(f"{self.type_name}.assettype.mdsp.json"),
            ),
            Step(
                "asset-types --mode create --file (template, own aspect)",
                lambda: [
                    "asset-types",
                    "--mode",
                    "create",
                    "--file",
                    f"{self.type_name}.assettype.mdsp.json",
                ],
                self.served(lambda: f"{am}/assettypes/{type_id}", re.escape(type_id), 200),
                before=self.edit_json(f"{self.type_name}.assettype.mdsp.json", self.asset_type_template_fix),
            ),
            Step(
                f"assets --mode template --typeid {type_id}",
                lambda: ["assets", "--mode", "template", "--typeid", type_id, "--assetname", "McCheckAsset"],
                self.file_written("McCheckAsset.asset.mdsp.json"),
            ),
            Step(
                "assets --mode create --file (template)",
                lambda: ["assets", "--mode", "create", "--file", "McCheckAsset.asset.mdsp.json"],
                self.created_id("asset", "McCheckAsset"),
            ),
            Step(
                f"assets --mode list --typeid {self.type_name}",
                lambda: ["assets", "--mode", "list", "--typeid", self.type_name],
                expect_count(r"(\d+) assets listed", lambda: 1),
            ),
            Step(
                "timeseries -i <new asset> -n check (no data yet)",
                lambda: ["timeseries", "-i", self.need("asset"), "-n", "check"],
                expect_count(r"There were (\d+) timeseries entries", lambda: 0),
            ),
            Step(
                "assets --mode delete --assetid <new asset>",
                lambda: ["assets", "--mode", "delete", "--assetid", self.need("asset")],
                self.served(lambda: f"{am}/assets/{self.need('asset')}", r"was deleted", 404),
            ),
            Step(
                f"asset-types --mode delete --assettype {type_id}",
                lambda: ["asset-types", "--mode", "delete", "--assettype", type_id],
                self.served(lambda: f"{am}/assettypes/{type_id}", r"deleted", 404),
            ),
            Step(
                f"aspects --mode delete --aspect {aspect_id}",
                lambda: ["aspects", "--mode", "delete", "--aspect", aspect_id],
                self.served(lambda: f"{am}/aspecttypes/{aspect_id}", r"deleted", 404),
            ),
            Step(
                "delete-asset --assetid <area>",
                lambda: ["delete-asset", "--assetid", self.need("area")],
                self.served(lambda: f"{am}/assets/{self.need('area')}", r"was deleted", 404),
            ),
        ]

    def run(self, progress: Callable[[Result], None] = lambda r: None) -> list[Result]:
        results: list[Result] = []
        for step in self.steps():
            try:
                if step.before is not None:
                    step.before()
                args = step.args()
            except (OSError, ValueError, KeyError) as exc:
                results.append(Result(step.label, None, False, 0.0, f"not run: {exc}"))
                progress(results[-1])
                continue
            run = self.mc.run(args)
            if run.rc is None:
                result = Result(step.label, None, False, run.seconds, run.problem, run.output)
            elif run.rc != 0:
                result = Result(step.label, run.rc, False, run.seconds, last_line(run.output), run.output)
            else:
                try:
                    detail = step.check(run.output)
                    result = Result(step.label, run.rc, True, run.seconds, detail, run.output)
                except (CheckFailed, httpx.HTTPError, KeyError, ValueError) as exc:
                    result = Result(step.label, run.rc, False, run.seconds, str(exc), run.output)
            results.append(result)
            progress(result)
        return results


def last_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


# ---------------------------------------------------------------- report


def mask(text: str, secrets_: list[str]) -> str:
    """``text`` without the given secrets and without access tokens (JWTs)."""
    for secret in secrets_:
        if secret:
            text = text.replace(secret, "***")
    return JWT.sub("<token>", text)


def table(results: list[Result], width: int = 60) -> str:
    def cut(text: str, n: int) -> str:
        return text if len(text) <= n else text[: n - 1] + "…"

    label_w = min(max(len(r.label) for r in results), 58)
    rows = [f"{'mc command':<{label_w}}  {'rc':>3}  {'':4}  {'s':>5}  key line", "-" * (label_w + 20 + width)]
    for r in results:
        rc = "-" if r.rc is None else str(r.rc)
        verdict = "ok" if r.ok else "FAIL"
        detail = cut(r.detail, width)
        rows.append(f"{cut(r.label, label_w):<{label_w}}  {rc:>3}  {verdict:<4}  {r.seconds:5.1f}  {detail}")
    return "\n".join(rows)


def run_checks(server: SimServer, mc: Mc, passkey: str, verbose: bool) -> list[Result] | str:
    """The results, or why the check cannot run."""
    try:
        oracle = Oracle(server.url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    except httpx.HTTPError as exc:
        return f"the simulator does not issue the demo token: {exc}"
    try:
        try:
            check = McCheck(server, oracle, mc, passkey)
        except (httpx.HTTPError, KeyError, ValueError, StopIteration) as exc:
            return f"the simulator's demo tenant is not as expected: {exc!r}"
        version = mc.run(["--version"])
        if version.rc != 0:
            return f"{mc.executable} --version failed: {version.problem or last_line(version.output)}"
        print(f"mc-check: {version.output.strip()} against the simulator at {server.url}", flush=True)

        def progress(result: Result) -> None:
            if verbose:
                print(
                    f"$ mc {result.label}\n{mask(result.output, [DEMO_CLIENT_SECRET, passkey])}", flush=True
                )

        return check.run(progress)
    finally:
        oracle.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tui.devtools.mc_check", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--mc", type=Path, required=True, help="the mc executable (node_modules/.bin/mc)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each command's output")
    args = parser.parse_args(argv)
    executable: Path = args.mc.absolute()  # mc runs in a folder of its own
    if not (executable.is_file() and os.access(executable, os.X_OK)):
        print(
            f"mc-check: no mc executable at {executable} (make mc-check installs it with npm)",
            file=sys.stderr,
        )
        return 2
    passkey = secrets.token_urlsafe(12)
    hidden = [DEMO_CLIENT_SECRET, passkey]
    server = SimServer(SimConfig())
    try:
        server.start()
    except SimServerError as exc:
        print(f"mc-check: {exc}", file=sys.stderr)
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="ihub-mc-check-") as home:
            outcome = run_checks(server, Mc(executable, Path(home), passkey), passkey, args.verbose)
    finally:
        server.stop()
    if isinstance(outcome, str):
        print(f"mc-check: {mask(outcome, hidden)}", file=sys.stderr)
        return 2
    results = outcome
    print(mask(table(results), hidden))
    failed = [r for r in results if not r.ok]
    for r in failed if not args.verbose else []:
        tail = "\n".join(r.output.splitlines()[-8:]) if r.output.strip() else r.detail
        print(f"\n--- mc {r.label}\n{mask(tail, hidden)}")
    total = sum(r.seconds for r in results)
    print(f"\n{len(results) - len(failed)} of {len(results)} mc commands ok ({total:.0f} s).")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
