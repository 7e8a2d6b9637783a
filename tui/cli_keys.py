"""``ihub keys``: list, add, remove, choose and test connection profiles from a script or a shell.

Secrets are read from a hidden prompt (only on a terminal) or, with ``--secret-stdin``, from standard
input; never from an argument. No command prints a secret or a token, and none ends in a traceback.

Exit statuses: 0 success; 1 a usage or configuration error; 2 ``keys test`` failed (the diagnosis is
printed); 3 no secure place for the secret (the choices are explained); 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TextIO

import httpx

from tui.api.errors import ApiError
from tui.config.paths import AppPaths
from tui.config.profiles import (
    ENV_CLIENT_SECRET,
    ENV_PROFILE,
    STYLES,
    Profile,
    ProfileError,
    ProfileStore,
    apply_env_overrides,
    profile_from_fields,
    select_profile_name,
)
from tui.config.secrets import (
    CHOICE_HELP,
    ENV_VAULT_PASSPHRASE,
    KeyringUnavailableError,
    NoSecureStoreError,
    SecretStore,
    SecretStoreError,
    StoreKind,
    VaultLockedError,
    VaultPassphraseError,
)
from tui.config.settings import SettingsError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_TEST_FAILED = 2
EXIT_NO_STORE = 3
EXIT_INTERRUPTED = 130

STORE_WORDS: dict[StoreKind | None, str] = {
    StoreKind.KEYRING: "the OS keyring",
    StoreKind.VAULT: "the encrypted vault",
    StoreKind.SESSION: "this session only",
    StoreKind.ENV: f"the environment ({ENV_CLIENT_SECRET})",
    None: "nowhere",
}


class KeysServices(Protocol):
    """What ``run_keys`` needs (``tui.services.Services`` has it)."""

    paths: AppPaths
    profiles: ProfileStore
    secrets: SecretStore
    environ: Mapping[str, str]
    transport_factory: Callable[[], httpx.AsyncBaseTransport] | None
    demo: bool


class KeysCommandError(Exception):
    """A user-facing failure of a keys command: a clear message and an exit status."""

    def __init__(self, message: str, status: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.status = status


# --------------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------------
def add_keys_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``keys`` and its subcommands on ``subparsers`` (from ``add_subparsers``)."""
    keys = subparsers.add_parser(
        "keys",
        help="manage connection profiles and their secrets",
        description="Manage Insights Hub connection profiles. Secrets go to the OS keyring (or, without "
        "one, an encrypted vault or the environment) and are never printed.",
    )
    sub = keys.add_subparsers(dest="keys_command", metavar="COMMAND")

    listing = sub.add_parser("list", help="list profiles (never the secrets)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")

    add = sub.add_parser(
        "add",
        help="add a profile; the secret is asked (hidden) or read from stdin",
        description="Add a profile. The client secret is asked with a hidden prompt, or read from standard "
        "input with --secret-stdin; it is never taken from an argument.",
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument("--gateway", required=True, metavar="URL", help="gateway URL or region (eu1, eu2, ...)")
    add.add_argument(
        "--token-url", default="", metavar="URL", help="TokenURL (default: derived from gateway and tenant)"
    )
    add.add_argument("--client-id", required=True, metavar="ID")
    add.add_argument("--style", choices=STYLES, help="credential style (default: detected from the TokenURL)")
    add.add_argument("--tenant", default="", help="tenant (default: from a <tenant>-<app>-<version>-... id)")
    add.add_argument("--app-name", default="", help="app name (app credentials)")
    add.add_argument("--app-version", default="", help="app version (app credentials)")
    add.add_argument("--ca-bundle", default=None, metavar="PEM", help="extra CA certificates (PEM file)")
    add.add_argument("--read-only", action="store_true", help="refuse every change through this profile")
    add.add_argument("--secret-stdin", action="store_true", help="read the client secret from standard input")
    add.add_argument(
        "--store",
        choices=[k.value for k in StoreKind],
        help="where the secret goes (default: the OS keyring; without one, the vault when "
        f"{ENV_VAULT_PASSPHRASE} is set)",
    )
    add.add_argument("--default", action="store_true", help="make it the default profile")

    remove = sub.add_parser("remove", help="remove a profile and its stored secret")
    remove.add_argument("name", metavar="NAME")

    use = sub.add_parser("use", help="make a profile the default")
    use.add_argument("name", metavar="NAME")

    test = sub.add_parser(
        "test",
        help="fetch a token and call the API once; print a diagnosis on failure",
        description="Fetch a token and read the root asset. Exit status 0 only when both succeed; otherwise "
        "a step-by-step diagnosis is printed and the status is 2.",
    )
    test.add_argument("name", nargs="?", metavar="NAME", help="profile (default: the selected one)")
    test.add_argument("--json", action="store_true", help="machine-readable output")

    keys.set_defaults(keys_parser=keys)
    return keys


# --------------------------------------------------------------------------------------------------
# Runner
# --------------------------------------------------------------------------------------------------
def run_keys(
    args: argparse.Namespace,
    services: KeysServices,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    prompt: Callable[[str], str] | None = None,
) -> int:
    """Run one ``ihub keys`` command; returns the exit status. Never raises for expected failures."""
    runner = _Runner(
        services,
        stdin or sys.stdin,
        stdout or sys.stdout,
        stderr or sys.stderr,
        prompt or getpass.getpass,
    )
    command = getattr(args, "keys_command", None)
    try:
        if command == "list":
            return runner.list(args)
        if command == "add":
            return runner.add(args)
        if command == "remove":
            return runner.remove(args)
        if command == "use":
            return runner.use(args)
        if command == "test":
            return runner.test(args)
        parser = getattr(args, "keys_parser", None)
        if parser is not None:
            parser.print_help(runner.out)
        else:
            runner.say("usage: ihub keys {list,add,remove,use,test} ...")
        return EXIT_ERROR
    except KeysCommandError as exc:
        runner.error(str(exc))
        return exc.status
    except NoSecureStoreError as exc:
        runner.error(_no_store_text(exc.reason))
        return EXIT_NO_STORE
    except (ProfileError, SecretStoreError, SettingsError, ApiError) as exc:
        runner.error(str(exc))
        return EXIT_ERROR
    except EOFError:
        runner.error("no input")
        return EXIT_ERROR
    except KeyboardInterrupt:
        runner.error("interrupted")
        return EXIT_INTERRUPTED


def _no_store_text(reason: str) -> str:
    lines = [
        f"no usable OS keyring ({reason}), and no place chosen for the client secret; nothing was saved.",
        "Choose one with --store:",
        f"  --store vault    {CHOICE_HELP[StoreKind.VAULT]}",
        f"  --store env      {CHOICE_HELP[StoreKind.ENV]}",
        "(--store session makes no sense for a command that exits; the app offers it.)",
        "Or make a keyring reachable, e.g. run inside 'dbus-run-session -- sh' after "
        "'gnome-keyring-daemon --unlock'.",
    ]
    return "\n".join(lines)


class _Runner:
    def __init__(
        self,
        services: KeysServices,
        stdin: TextIO,
        stdout: TextIO,
        stderr: TextIO,
        prompt: Callable[[str], str],
    ) -> None:
        self.services = services
        self.stdin = stdin
        self.out = stdout
        self.err = stderr
        self.prompt = prompt

    def say(self, text: str = "") -> None:
        print(text, file=self.out)

    def error(self, text: str) -> None:
        print(f"ihub keys: {text}", file=self.err)

    @property
    def profiles(self) -> ProfileStore:
        return self.services.profiles

    @property
    def secrets(self) -> SecretStore:
        return self.services.secrets

    def _interactive(self) -> bool:
        try:
            return bool(self.stdin.isatty())
        except (AttributeError, ValueError):
            return False

    # -- list ---------------------------------------------------------------------------------------
    def list(self, args: argparse.Namespace) -> int:
        environ = self.services.environ
        active = select_profile_name(self.profiles, environ)
        profiles: list[Profile] = []
        for profile in self.profiles.list():
            if profile.name == active:
                profile = apply_env_overrides(profile, environ) or profile
            profiles.append(profile)
        if active is not None and active not in self.profiles:
            env_only = apply_env_overrides(None, environ)
            if env_only is not None and env_only.name == active:
                profiles.append(env_only)
        elif not profiles:
            env_only = apply_env_overrides(None, environ)
            if env_only is not None:
                profiles.append(env_only)
                active = env_only.name
        rows = [self._row(p, active) for p in profiles]
        if args.json:
            self.say(json.dumps({"profiles": rows, "active": active}, indent=2))
            return EXIT_OK
        if not rows:
            self.say("no profiles yet: add one with 'ihub keys add NAME --gateway eu1 --client-id ...'")
            return EXIT_OK
        headers = ("", "NAME", "GATEWAY", "CLIENT ID", "STYLE", "TENANT", "RO", "SECRET", "FROM ENV")
        table = [
            (
                "*" if r["default"] else (">" if r["active"] else ""),
                r["name"],
                r["gateway"],
                r["client_id"],
                "app" if r["style"] == "app_credentials" else "client",
                r["tenant"] or "-",
                "yes" if r["read_only"] else "",
                r["secret"] or "none",
                ",".join(r["env_fields"]) or "",
            )
            for r in rows
        ]
        widths = [max(len(str(row[i])) for row in [headers, *table]) for i in range(len(headers))]
        for row in [headers, *table]:
            self.say("  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        self.say(
            "* default, > selected by IHUB_PROFILE; SECRET: where the secret is; FROM ENV: IHUB_* overrides"
        )
        return EXIT_OK

    def _row(self, profile: Profile, active: str | None) -> dict[str, Any]:
        where: StoreKind | None
        if profile.name not in self.profiles:
            where = None
        else:
            where = self.secrets.where(profile.name)
        secret = where.value if where else None
        if self.secrets.env_secret_applies(profile.name):
            secret = StoreKind.ENV.value
        return {
            "name": profile.name,
            "gateway": profile.gateway,
            "token_url": profile.token_url,
            "client_id": profile.client_id,
            "style": profile.style,
            "tenant": profile.tenant,
            "app_name": profile.app_name,
            "app_version": profile.app_version,
            "read_only": profile.read_only,
            "ca_bundle": profile.ca_bundle,
            "default": profile.name == self.profiles.default_name,
            "active": profile.name == active,
            "secret": secret,
            "env_fields": sorted(profile.env_fields),
        }

    # -- add ----------------------------------------------------------------------------------------
    def add(self, args: argparse.Namespace) -> int:
        profile = profile_from_fields(
            args.name,
            args.gateway,
            args.token_url,
            args.client_id,
            style=args.style,
            tenant=args.tenant,
            app_name=args.app_name,
            app_version=args.app_version,
            read_only=args.read_only,
            ca_bundle=args.ca_bundle,
        )
        if profile.name in self.profiles:
            raise KeysCommandError(f"a profile named {profile.name!r} already exists (remove it first)")

        kind = self._choose_store(args)
        secret = ""
        if kind is not StoreKind.ENV:
            if kind is StoreKind.VAULT:
                self._open_vault(new_ok=True, allow_prompt=not args.secret_stdin)
            secret = self._read_secret(profile.name, args.secret_stdin)

        stored = self.secrets.set(profile.name, secret, kind)
        try:
            self.profiles.add(profile)
            if args.default:
                self.profiles.set_default(profile.name)
        except (ProfileError, KeyError):
            self.secrets.delete(profile.name)  # nothing half-done
            raise
        if args.store and stored is not StoreKind.KEYRING and not self.secrets.keyring_status().usable:
            self.secrets.set_choice(stored)

        self.say(
            f"added profile {profile.name!r} ({profile.style}, tenant {profile.tenant or '?'}); "
            f"secret: {STORE_WORDS[stored]}"
        )
        if stored is StoreKind.ENV:
            target = (
                "" if self.profiles.default_name == profile.name else f" and {ENV_PROFILE}={profile.name}"
            )
            self.say(f"set {ENV_CLIENT_SECRET} to the client secret{target} when you use this profile")
        if self.profiles.default_name == profile.name:
            self.say(f"{profile.name!r} is the default profile")
        return EXIT_OK

    def _choose_store(self, args: argparse.Namespace) -> StoreKind:
        if args.store:
            kind = StoreKind(args.store)
            if kind is StoreKind.SESSION:
                raise KeysCommandError(
                    "--store session keeps the secret only while ihub runs, and this command exits at once; "
                    "use --store keyring, vault or env (the app itself offers session-only secrets)"
                )
            if kind is StoreKind.KEYRING:
                status = self.secrets.keyring_status()
                if not status.usable:
                    raise KeysCommandError(f"the OS keyring is not usable: {status.reason}", EXIT_NO_STORE)
            return kind
        kind = self.secrets.default_kind()
        if kind is None:
            raise NoSecureStoreError(self.secrets.keyring_status().reason)
        if kind is StoreKind.SESSION:
            raise KeysCommandError(
                "this machine keeps secrets for the session only, which ends when this command exits; "
                "use --store vault or --store env",
                EXIT_NO_STORE,
            )
        return kind

    def _open_vault(self, *, new_ok: bool, allow_prompt: bool) -> None:
        secrets = self.secrets
        if secrets.vault_unlocked:
            return
        passphrase = self.services.environ.get(ENV_VAULT_PASSPHRASE, "")
        if passphrase:
            secrets.unlock_vault(passphrase)
            return
        if not (allow_prompt and self._interactive()):
            raise KeysCommandError(
                f"the vault needs its passphrase: set {ENV_VAULT_PASSPHRASE} (no terminal to ask on)",
                EXIT_NO_STORE,
            )
        if secrets.vault_exists:
            secrets.unlock_vault(self.prompt("Vault passphrase: "))
            return
        if not new_ok:
            raise KeysCommandError("there is no vault yet")
        first = self.prompt("New vault passphrase: ")
        if not first:
            raise VaultPassphraseError("the vault passphrase is empty")
        if self.prompt("Repeat the vault passphrase: ") != first:
            raise KeysCommandError("the two passphrases differ; nothing was saved")
        secrets.unlock_vault(first)

    def _read_secret(self, name: str, from_stdin: bool) -> str:
        if from_stdin:
            text = self.stdin.read()
            secret = text.strip("\r\n")
            if "\n" in secret or "\r" in secret:
                raise KeysCommandError("standard input holds more than one line; give only the client secret")
            secret = secret.strip()
        elif self._interactive():
            secret = self.prompt(f"Client secret for {name}: ").strip()
        else:
            raise KeysCommandError(
                "standard input is not a terminal, so the secret cannot be asked: pipe it with --secret-stdin"
            )
        if not secret:
            raise KeysCommandError("the client secret is empty; nothing was saved")
        return secret

    # -- remove, use --------------------------------------------------------------------------------
    def remove(self, args: argparse.Namespace) -> int:
        name = args.name
        if name not in self.profiles:
            raise KeysCommandError(f"no profile named {name!r}")
        self.secrets.delete(name)
        self.profiles.remove(name)
        self.say(f"removed profile {name!r} and its stored secret")
        return EXIT_OK

    def use(self, args: argparse.Namespace) -> int:
        name = args.name
        if name not in self.profiles:
            raise KeysCommandError(f"no profile named {name!r}")
        self.profiles.set_default(name)
        self.say(f"{name!r} is now the default profile")
        return EXIT_OK

    # -- test ---------------------------------------------------------------------------------------
    def test(self, args: argparse.Namespace) -> int:
        from tui.api.diagnose import diagnose

        environ = self.services.environ
        cli_name = args.name or getattr(args, "profile", None)
        name = select_profile_name(self.profiles, environ, cli_name)
        env_only = apply_env_overrides(None, environ)
        if name is None and env_only is not None:
            name = env_only.name
        if name is None:
            raise KeysCommandError(
                "no profile selected: name one, or set a default with 'ihub keys use NAME'"
            )
        if name in self.profiles:
            profile = apply_env_overrides(self.profiles.get(name), environ) or self.profiles.get(name)
        elif env_only is not None and env_only.name == name:
            profile = env_only
        else:
            raise KeysCommandError(f"no profile named {name!r}")

        secret = self._secret_for(profile)
        transport = self.services.transport_factory() if self.services.transport_factory else None
        result = asyncio.run(diagnose(profile, secret.value, transport=transport))
        if args.json:
            data = result.to_dict()
            data["profile"] = profile.name
            data["secret"] = secret.kind.value
            data["env_fields"] = sorted(profile.env_fields)
            self.say(json.dumps(data, indent=2))
        else:
            self.say(f"profile {profile.name!r}: {profile.gateway} (secret: {STORE_WORDS[secret.kind]})")
            for line in result.lines():
                self.say("  " + line)
            self.say("connection OK" if result.ok else "connection FAILED")
        return EXIT_OK if result.ok else EXIT_TEST_FAILED

    def _secret_for(self, profile: Profile) -> Any:
        try:
            secret = self.secrets.get(profile)
        except VaultLockedError:
            self._open_vault(new_ok=False, allow_prompt=True)
            secret = self.secrets.get(profile)
        except KeyringUnavailableError as exc:
            raise KeysCommandError(f"{exc}; or set {ENV_CLIENT_SECRET}") from None
        if secret is None:
            where = self.secrets.where(profile.name)
            if where is StoreKind.ENV:
                raise KeysCommandError(f"profile {profile.name!r} expects its secret in {ENV_CLIENT_SECRET}")
            raise KeysCommandError(
                f"no secret stored for {profile.name!r}: add the profile again, or set {ENV_CLIENT_SECRET}"
            )
        return secret
