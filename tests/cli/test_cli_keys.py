"""``ihub keys``: add, list, use, remove and test, against the simulator; secrets never leak."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import InMemoryKeyring, files_containing
from tui.cli import build_parser
from tui.cli.common import (
    EXIT_CHECK_FAILED,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_NO_STORE,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
)
from tui.cli.keys import run
from tui.config.paths import AppPaths
from tui.config.profiles import ProfileStore
from tui.config.secrets import SecretStore, StoreKind
from tui.services import Services
from tui.sim.app import create_app
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig
from tui.sim.server import SimServer
from tui.sim.transport import sim_transport

GATEWAY = "https://gateway.sim.test"


class TtyInput(io.StringIO):
    def isatty(self) -> bool:
        return True


class Cli:
    """Runs ``ihub keys ...`` with fresh stores each time (like separate processes)."""

    def __init__(
        self,
        paths: AppPaths,
        environ: dict[str, str] | None = None,
        transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self.paths = paths
        self.environ = environ if environ is not None else {}
        self.transport_factory = transport_factory
        self.parser = build_parser(["keys"])
        self.out = ""
        self.err = ""

    def services(self) -> Services:
        return Services(
            paths=self.paths,
            profiles=ProfileStore(self.paths.profiles_file),
            secrets=SecretStore(self.paths, environ=self.environ, keyring_timeout=3.0),
            environ=self.environ,
            transport_factory=self.transport_factory,
        )

    def __call__(
        self, *argv: str, stdin: io.StringIO | None = None, prompt: Callable[[str], str] | None = None
    ) -> int:
        out, err = io.StringIO(), io.StringIO()
        args = self.parser.parse_args(["keys", *argv])
        code = run(
            args, self.services(), stdin=stdin or io.StringIO(""), stdout=out, stderr=err, prompt=prompt
        )
        self.out, self.err = out.getvalue(), err.getvalue()
        assert "Traceback" not in self.out + self.err
        return code


def _add_args(name: str = "sim", gateway: str = GATEWAY, token_url: str | None = None) -> list[str]:
    return [
        "add",
        name,
        "--gateway",
        gateway,
        "--token-url",
        token_url if token_url is not None else f"{gateway}/oauth/token",
        "--client-id",
        DEMO_CLIENT_ID,
    ]


@pytest.fixture
def sim_cli(paths: AppPaths) -> Cli:
    app = create_app(SimConfig())
    return Cli(paths, transport_factory=lambda: sim_transport(app))


def _walk_for_secret(paths: AppPaths, secret: str) -> None:
    for folder in (paths.config_dir, paths.data_dir, paths.log_dir, paths.cache_dir):
        assert files_containing(folder, secret) == [], folder


# -- add and list -------------------------------------------------------------------------------------
def test_add_from_stdin_then_list_json_never_shows_the_secret(
    sim_cli: Cli, memory_keyring: InMemoryKeyring, paths: AppPaths
) -> None:
    code = sim_cli(
        *_add_args(), "--secret-stdin", "--read-only", stdin=io.StringIO(DEMO_CLIENT_SECRET + "\n")
    )
    assert code == EXIT_OK, sim_cli.err
    assert "the OS keyring" in sim_cli.out
    assert memory_keyring.store[("ihub:sim", "client_secret")] == DEMO_CLIENT_SECRET

    assert sim_cli("list", "--json") == EXIT_OK
    assert DEMO_CLIENT_SECRET not in sim_cli.out
    data = json.loads(sim_cli.out)
    (row,) = data["profiles"]
    assert row["name"] == "sim" and row["gateway"] == GATEWAY and row["client_id"] == DEMO_CLIENT_ID
    assert row["style"] == "client_credentials" and row["tenant"] == "demo"
    assert row["default"] is True and row["read_only"] is True
    assert row["secret"] == "keyring" and row["env_fields"] == []

    assert sim_cli("list") == EXIT_OK
    assert "keyring" in sim_cli.out and DEMO_CLIENT_SECRET not in sim_cli.out
    _walk_for_secret(paths, DEMO_CLIENT_SECRET)


def test_list_reports_environment_overrides(sim_cli: Cli) -> None:
    sim_cli(*_add_args(), "--secret-stdin", stdin=io.StringIO(DEMO_CLIENT_SECRET))
    sim_cli.environ.update({"IHUB_GATEWAY": "eu1", "IHUB_CLIENT_SECRET": "from-env-secret"})
    assert sim_cli("list", "--json") == EXIT_OK
    (row,) = json.loads(sim_cli.out)["profiles"]
    assert row["gateway"] == "https://gateway.eu1.mindsphere.io"
    assert row["env_fields"] == ["gateway"]
    assert row["secret"] == "env"
    assert "from-env-secret" not in sim_cli.out


def test_secret_is_never_taken_without_a_terminal_or_stdin_flag(sim_cli: Cli, paths: AppPaths) -> None:
    assert sim_cli(*_add_args(), stdin=io.StringIO(DEMO_CLIENT_SECRET)) == EXIT_ERROR
    assert "--secret-stdin" in sim_cli.err
    assert not paths.profiles_file.exists()
    # An empty secret is bad input (exit 2), like every value the cleaning rule refuses.
    assert sim_cli(*_add_args(), "--secret-stdin", stdin=io.StringIO("")) == EXIT_USAGE
    assert "empty" in sim_cli.err and not paths.profiles_file.exists()


def test_hidden_prompt_on_a_terminal(sim_cli: Cli, memory_keyring: InMemoryKeyring) -> None:
    prompts: list[str] = []

    def prompt(text: str) -> str:
        prompts.append(text)
        return DEMO_CLIENT_SECRET

    assert sim_cli(*_add_args(), stdin=TtyInput(""), prompt=prompt) == EXIT_OK
    assert prompts == ["Client secret for sim: "]
    assert memory_keyring.store[("ihub:sim", "client_secret")] == DEMO_CLIENT_SECRET


def test_interrupted_prompt_exits_cleanly(sim_cli: Cli, paths: AppPaths) -> None:
    def prompt(text: str) -> str:
        raise KeyboardInterrupt

    assert sim_cli(*_add_args(), stdin=TtyInput(""), prompt=prompt) == EXIT_INTERRUPTED
    assert "interrupted" in sim_cli.err
    assert not paths.profiles_file.exists()


def test_bad_input_gives_clear_errors(sim_cli: Cli, paths: AppPaths) -> None:
    assert sim_cli("add", "x", "--gateway", "ftp://no", "--client-id", "a", "--secret-stdin") == EXIT_USAGE
    assert "gateway URL" in sim_cli.err
    sim_cli(*_add_args(), "--secret-stdin", stdin=io.StringIO(DEMO_CLIENT_SECRET))
    assert sim_cli(*_add_args(), "--secret-stdin", stdin=io.StringIO("other")) == EXIT_ERROR
    assert "already exists" in sim_cli.err
    assert sim_cli("remove", "nope") == EXIT_NOT_FOUND and "no profile named 'nope'" in sim_cli.err
    assert sim_cli("use", "nope") == EXIT_NOT_FOUND


# -- headless machine -----------------------------------------------------------------------------------
def test_headless_add_stops_and_explains(paths: AppPaths, fail_keyring: None, ihub_home: Path) -> None:
    cli = Cli(paths)
    assert cli(*_add_args(), "--secret-stdin", stdin=io.StringIO(DEMO_CLIENT_SECRET)) == EXIT_NO_STORE
    for word in ("--store vault", "--store env", "IHUB_VAULT_PASSPHRASE", "nothing was saved"):
        assert word in cli.err
    assert not paths.profiles_file.exists() and not paths.vault_file.exists()

    assert cli(*_add_args(), "--secret-stdin", "--store", "session", stdin=io.StringIO("x")) == EXIT_USAGE
    assert "session" in cli.err and not paths.profiles_file.exists()
    assert cli(*_add_args(), "--secret-stdin", "--store", "keyring", stdin=io.StringIO("x")) == EXIT_NO_STORE
    assert files_containing(ihub_home, DEMO_CLIENT_SECRET) == []


def test_headless_vault_from_environment_passphrase(
    paths: AppPaths, fail_keyring: None, ihub_home: Path
) -> None:
    cli = Cli(paths, {"IHUB_VAULT_PASSPHRASE": "pass phrase"})
    assert cli(*_add_args(), "--secret-stdin", stdin=io.StringIO(DEMO_CLIENT_SECRET)) == EXIT_OK, cli.err
    assert "encrypted vault" in cli.out
    assert paths.vault_file.exists()
    assert files_containing(ihub_home, DEMO_CLIENT_SECRET) == []
    assert (
        SecretStore(paths, environ={"IHUB_VAULT_PASSPHRASE": "pass phrase"}).get("sim").value
        == DEMO_CLIENT_SECRET
    )  # type: ignore[union-attr]


def test_headless_env_store_saves_profile_and_explains(paths: AppPaths, fail_keyring: None) -> None:
    app = create_app(SimConfig())
    cli = Cli(paths, transport_factory=lambda: sim_transport(app))
    assert cli(*_add_args(), "--store", "env") == EXIT_OK
    assert "IHUB_CLIENT_SECRET" in cli.out
    assert SecretStore(paths, environ={}).choice is StoreKind.ENV  # remembered for this machine
    assert cli("test") == EXIT_ERROR and "IHUB_CLIENT_SECRET" in cli.err
    cli.environ["IHUB_CLIENT_SECRET"] = DEMO_CLIENT_SECRET
    assert cli("test") == EXIT_OK, cli.out


# -- test ---------------------------------------------------------------------------------------------
def test_keys_test_in_process(sim_cli: Cli) -> None:
    sim_cli(*_add_args(), "--secret-stdin", stdin=io.StringIO(DEMO_CLIENT_SECRET))
    assert sim_cli("test") == EXIT_OK, sim_cli.out
    assert "connection OK" in sim_cli.out and "in-process simulator" in sim_cli.out
    assert sim_cli("test", "sim", "--json") == EXIT_OK
    data = json.loads(sim_cli.out)
    assert data["ok"] is True and data["token"]["tenant"] == "demo" and data["secret"] == "keyring"
    assert "eyJ" not in sim_cli.out and DEMO_CLIENT_SECRET not in sim_cli.out

    sim_cli(*_add_args("wrongsecret"), "--secret-stdin", stdin=io.StringIO("not-the-secret"))
    assert sim_cli("test", "wrongsecret") == EXIT_CHECK_FAILED
    assert "cause: wrong client secret" in sim_cli.out
    assert "not-the-secret" not in sim_cli.out

    sim_cli(
        *_add_args("wrongurl", token_url=f"{GATEWAY}/oauth/tokens"),
        "--secret-stdin",
        stdin=io.StringIO("FAKE-any-secret-x1"),
    )
    assert sim_cli("test", "wrongurl", "--json") == EXIT_CHECK_FAILED
    assert json.loads(sim_cli.out)["cause"].startswith("wrong token URL")

    assert sim_cli("test", "missing") == EXIT_NOT_FOUND and "no profile named" in sim_cli.err


def test_keys_test_over_loopback(paths: AppPaths) -> None:
    cli = Cli(paths)
    with SimServer(SimConfig()) as server:
        cli(*_add_args("loop", server.url), "--secret-stdin", stdin=io.StringIO(DEMO_CLIENT_SECRET))
        assert cli("test", "loop") == EXIT_OK, cli.out
        assert "TCP connect" in cli.out and "connection OK" in cli.out

        cli(*_add_args("badsecret", server.url), "--secret-stdin", stdin=io.StringIO("FAKE-wrong-secret-one"))
        assert cli("test", "badsecret") == EXIT_CHECK_FAILED
        assert "wrong client secret" in cli.out

        cli(
            *_add_args("badurl", server.url, f"{server.url}/wrong/token"),
            "--secret-stdin",
            stdin=io.StringIO("FAKE-secret-value-z"),
        )
        assert cli("test", "badurl") == EXIT_CHECK_FAILED
        assert "cause: wrong token URL" in cli.out


def test_session_leaves_no_secret_in_any_file(paths: AppPaths, fail_keyring: None, ihub_home: Path) -> None:
    app = create_app(SimConfig())
    env = {"IHUB_VAULT_PASSPHRASE": "another pass phrase"}
    cli = Cli(paths, env, transport_factory=lambda: sim_transport(app))
    assert cli(*_add_args("a"), "--secret-stdin", stdin=io.StringIO(DEMO_CLIENT_SECRET)) == EXIT_OK
    assert (
        cli(*_add_args("b"), "--secret-stdin", "--default", stdin=io.StringIO(DEMO_CLIENT_SECRET)) == EXIT_OK
    )
    assert cli("test") == EXIT_OK  # b, the default
    assert cli("use", "a") == EXIT_OK
    assert cli("test") == EXIT_OK
    assert cli("list", "--json") == EXIT_OK
    assert [r["default"] for r in json.loads(cli.out)["profiles"]] == [True, False]
    _walk_for_secret(paths, DEMO_CLIENT_SECRET)
    assert files_containing(ihub_home, DEMO_CLIENT_SECRET) == []
    assert files_containing(ihub_home, env["IHUB_VAULT_PASSPHRASE"]) == []


def test_remove_deletes_the_stored_secret(
    sim_cli: Cli, memory_keyring: InMemoryKeyring, paths: AppPaths
) -> None:
    sim_cli(*_add_args(), "--secret-stdin", stdin=io.StringIO(DEMO_CLIENT_SECRET))
    sim_cli(*_add_args("other"), "--secret-stdin", stdin=io.StringIO("second-secret"))
    assert sim_cli("use", "other") == EXIT_OK
    assert ProfileStore(paths.profiles_file).default_name == "other"
    assert sim_cli("remove", "sim") == EXIT_OK
    assert ("ihub:sim", "client_secret") not in memory_keyring.store
    assert ProfileStore(paths.profiles_file).names() == ["other"]


def test_wired_into_the_ihub_command(
    memory_keyring: InMemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.cli import main

    assert main(["keys", "list", "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["profiles"] == []


# -- issue 7: the CLI's input boundaries go through the config layer's cleaning rule -------------------
def test_secret_stdin_with_an_invisible_character_is_refused_and_nothing_is_saved(
    sim_cli: Cli, paths: AppPaths, memory_keyring: InMemoryKeyring
) -> None:
    secret = "FAKE-secret-0123456789abc"
    assert sim_cli(*_add_args(), "--secret-stdin", stdin=io.StringIO(secret + "\u200b\n")) == EXIT_USAGE
    assert (
        "ihub keys: the client secret contains an invisible character, U+200B, at position 26" in sim_cli.err
    )
    assert memory_keyring.store == {} and not paths.profiles_file.exists()
    assert sim_cli(*_add_args(), "--secret-stdin", stdin=io.StringIO("\ufeff" + secret + "\r\n")) == EXIT_OK
    assert memory_keyring.store[("ihub:sim", "client_secret")] == secret


def test_plain_http_gateway_off_loopback_is_refused(sim_cli: Cli, paths: AppPaths) -> None:
    args = _add_args("clear", "http://10.0.0.5:8080")
    assert sim_cli(*args, "--secret-stdin", stdin=io.StringIO(DEMO_CLIENT_SECRET)) == EXIT_USAGE
    assert "plain HTTP" in sim_cli.err and not paths.profiles_file.exists()


# -- issue 14: binding keys from standard input, every label set; issue 7: cleaning, warnings ------------
SIM_TOKEN_URL = f"{GATEWAY}/oauth/token"
ID, SECRET = DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
BINDING_KEY_TEXTS = {
    "pop-up": f"TokenURL: {SIM_TOKEN_URL}\nclientID: {ID}\nclientSecret: {SECRET}\n",
    "pop-up, reversed, tabs": f"clientSecret\t{SECRET}\nclientID\t{ID}\nTokenURL\t{SIM_TOKEN_URL}",
    "e-mail words": f"Token URL: {SIM_TOKEN_URL}\nClient ID: {ID}\nClient Secret: {SECRET}",
    "App Service, tabs": f"Access Key:\t{ID}\nSecret Key:\t{SECRET}\nToken URL:\t{SIM_TOKEN_URL}",
    "App Service, reversed, '='": f"token url = {SIM_TOKEN_URL}\nsecret key = {SECRET}\naccess key = {ID}",
    "welcome e-mail": (
        "Hello,\nyour tenant is ready; these are the credentials of your application:\n\n"
        f"Token URL: {SIM_TOKEN_URL}\nClient ID: {DEMO_CLIENT_ID}\nClient Secret: {DEMO_CLIENT_SECRET}\n\n"
        "Regards, the team\n"
    ),
    "byte-order mark, CRLF": (
        f"\ufeffTokenURL: {SIM_TOKEN_URL}\r\nclientID: {ID}\r\nclientSecret: {SECRET}\r\n"
    ),
}


@pytest.mark.parametrize("text", list(BINDING_KEY_TEXTS.values()), ids=list(BINDING_KEY_TEXTS))
def test_add_reads_binding_keys_from_stdin(
    sim_cli: Cli, paths: AppPaths, memory_keyring: InMemoryKeyring, text: str
) -> None:
    code = sim_cli("add", "sim", "--gateway", GATEWAY, "--binding-keys-stdin", stdin=io.StringIO(text))
    assert code == EXIT_OK, sim_cli.err
    profile = ProfileStore(paths.profiles_file).get("sim")
    assert profile.token_url == SIM_TOKEN_URL and profile.client_id == DEMO_CLIENT_ID
    assert profile.tenant == "demo"
    assert memory_keyring.store[("ihub:sim", "client_secret")] == DEMO_CLIENT_SECRET
    assert DEMO_CLIENT_SECRET not in sim_cli.out + sim_cli.err
    assert sim_cli("test", "sim") == EXIT_OK, sim_cli.out


def test_two_app_service_keys_derive_the_token_url_and_say_so(
    sim_cli: Cli, paths: AppPaths, memory_keyring: InMemoryKeyring
) -> None:
    text = f"Access Key: {DEMO_CLIENT_ID}\nSecret Key: {DEMO_CLIENT_SECRET}\n"
    assert (
        sim_cli("add", "plant", "--gateway", "eu1", "--binding-keys-stdin", stdin=io.StringIO(text))
        == EXIT_OK
    )
    derived = "https://demo.piam.eu1.mindsphere.io/oauth/token"
    assert ProfileStore(paths.profiles_file).get("plant").token_url == derived
    assert (
        f"warning: the binding keys hold no token URL; using {derived}, derived for region eu1" in sim_cli.err
    )
    assert "--token-url" in sim_cli.err
    # With the Token URL of the welcome e-mail given, nothing is derived.
    other = "https://demo.piam.eu1.mindsphere.io/oauth/token2"
    args = ["add", "plant2", "--gateway", "eu1", "--token-url", other, "--binding-keys-stdin"]
    assert sim_cli(*args, stdin=io.StringIO(text)) == EXIT_OK
    assert ProfileStore(paths.profiles_file).get("plant2").token_url == other and "derived" not in sim_cli.err


def test_binding_keys_that_contradict_the_options_are_refused(sim_cli: Cli, paths: AppPaths) -> None:
    text = BINDING_KEY_TEXTS["pop-up"]
    args = ["add", "sim", "--gateway", GATEWAY, "--binding-keys-stdin"]
    assert sim_cli(*args, "--client-id", "demo-other-1.0.0-x", stdin=io.StringIO(text)) == EXIT_USAGE
    assert "differs from the client id in the binding keys" in sim_cli.err
    assert sim_cli(*args, "--token-url", f"{GATEWAY}/other/token", stdin=io.StringIO(text)) == EXIT_USAGE
    assert "differs from the token URL in the binding keys" in sim_cli.err
    assert sim_cli(*args, "--client-id", DEMO_CLIENT_ID, stdin=io.StringIO(text)) == EXIT_OK  # the same: fine
    # --secret-stdin and --binding-keys-stdin both read standard input: one of them only.
    with pytest.raises(SystemExit):
        sim_cli(*args, "--secret-stdin", stdin=io.StringIO(text))


def test_binding_keys_with_an_invisible_character_save_nothing(
    sim_cli: Cli, paths: AppPaths, memory_keyring: InMemoryKeyring
) -> None:
    text = BINDING_KEY_TEXTS["pop-up"].replace(DEMO_CLIENT_SECRET, DEMO_CLIENT_SECRET + "\u200b")
    args = ["add", "sim", "--gateway", GATEWAY, "--binding-keys-stdin"]
    assert sim_cli(*args, stdin=io.StringIO(text)) == EXIT_USAGE
    assert "the client secret contains an invisible character, U+200B, at position 26" in sim_cli.err
    assert "nothing was saved" in sim_cli.err
    assert sim_cli(*args, stdin=io.StringIO("just some words\n")) == EXIT_USAGE
    assert "expected the three binding keys" in sim_cli.err
    assert not paths.profiles_file.exists() and memory_keyring.store == {}


def test_without_a_client_id_or_binding_keys_add_says_what_to_give(sim_cli: Cli, paths: AppPaths) -> None:
    assert sim_cli("add", "sim", "--gateway", GATEWAY, "--secret-stdin", stdin=io.StringIO("x")) == EXIT_USAGE
    assert "--client-id" in sim_cli.err and "--binding-keys-stdin" in sim_cli.err
    assert not paths.profiles_file.exists()


def test_hidden_prompt_goes_through_the_cleaning_rule(
    sim_cli: Cli, paths: AppPaths, memory_keyring: InMemoryKeyring
) -> None:
    secret = "FAKE-secret-0123456789abc"
    assert sim_cli(*_add_args(), stdin=TtyInput(""), prompt=lambda _: secret + "\u200b") == EXIT_USAGE
    assert "U+200B, at position 26" in sim_cli.err and memory_keyring.store == {}
    assert sim_cli(*_add_args(), stdin=TtyInput(""), prompt=lambda _: "short") == EXIT_USAGE
    assert "too short" in sim_cli.err and not paths.profiles_file.exists()
    assert sim_cli(*_add_args(), stdin=TtyInput(""), prompt=lambda _: f"\ufeff{secret} ") == EXIT_OK
    assert memory_keyring.store[("ihub:sim", "client_secret")] == secret


@pytest.mark.parametrize(
    ("gateway", "warning"),
    [("eu9", "'eu9' is not a known Insights Hub region"), ("notaurl", "has no dot")],
)
def test_doubtful_gateways_are_saved_with_a_warning(
    sim_cli: Cli, paths: AppPaths, gateway: str, warning: str
) -> None:
    args = _add_args("doubt", gateway, token_url="https://demo.piam.eu1.mindsphere.io/oauth/token")
    assert sim_cli(*args, "--secret-stdin", stdin=io.StringIO(DEMO_CLIENT_SECRET)) == EXIT_OK
    assert "ihub keys: warning: " in sim_cli.err and warning in sim_cli.err
    assert "doubt" in ProfileStore(paths.profiles_file).names()


def test_errors_are_plain_words(sim_cli: Cli) -> None:
    assert sim_cli("remove", "nope") == EXIT_NOT_FOUND
    assert sim_cli.err == "ihub keys: no profile named 'nope'\n"
    args = _add_args("bad", GATEWAY, token_url="ht!tp://::not a url")
    assert sim_cli(*args, "--secret-stdin", stdin=io.StringIO(DEMO_CLIENT_SECRET)) == EXIT_USAGE
    assert "not a valid URL" in sim_cli.err and "Error" not in sim_cli.err and "://)" not in sim_cli.err
