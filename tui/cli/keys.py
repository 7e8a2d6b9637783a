"""``ihub keys``: list, add, remove, choose and test connection profiles from a script or a shell.

Secrets are read from a hidden prompt (only on a terminal) or, with ``--secret-stdin``, from standard
input; never from an argument. No command prints a secret or a token, and none ends in a traceback.

Exit codes are the shared ones (``tui/cli/common.py``): 0 success; 1 a configuration or store error; 2 bad
arguments or input; 3 no secure place for the secret (the choices are explained); 4 no such profile;
6 ``keys test`` failed (the diagnosis is printed); 130 interrupted.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from tui.cli.common import (
    EXIT_CHECK_FAILED,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_NO_STORE,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    add_confirm_arguments,
    confirm_destructive,
    error_line,
    exit_code_for,
    print_rows,
    prompt_unlock,
    refuse_local_change,
    run_async,
)
from tui.config.inputs import InputError, clean_secret, clean_value
from tui.config.profiles import (
    ENV_CLIENT_SECRET,
    ENV_PROFILE,
    SAVED_FIELDS,
    STYLES,
    BindingKeys,
    Profile,
    ProfileError,
    apply_env_overrides,
    parse_binding_keys,
    profile_from_fields,
    profile_warnings,
    region_of,
    select_profile_name,
    validate_token_url,
)
from tui.config.secrets import (
    CHOICE_HELP,
    ENV_VAULT_PASSPHRASE,
    KeyringUnavailableError,
    NoSecureStoreError,
    Secret,
    SecretStore,
    StoreKind,
    VaultPassphraseError,
)
from tui.errors import error_text

if TYPE_CHECKING:
    from tui.config.profiles import ProfileStore
    from tui.services import Services

STORE_WORDS: dict[StoreKind | None, str] = {
    StoreKind.KEYRING: "the OS keyring",
    StoreKind.VAULT: "the encrypted vault",
    StoreKind.SESSION: "this session only",
    StoreKind.ENV: f"the environment ({ENV_CLIENT_SECRET})",
    None: "nowhere",
}

# The old name of the shared error type, kept for readability in this module.
KeysCommandError = CommandError


# --------------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------------
def add_arguments(keys: argparse.ArgumentParser) -> None:
    """Add the ``keys`` subcommands to the group's parser."""
    sub = keys.add_subparsers(dest="keys_command", metavar="COMMAND")

    listing = sub.add_parser("list", help="list profiles (never the secrets)")
    listing.add_argument(
        "-o", "--output", choices=("table", "json", "csv"), default="table", help="output format"
    )
    listing.add_argument(
        "--json", action="store_const", const="json", dest="output", help="the same as -o json"
    )

    add = sub.add_parser(
        "add",
        help="add a profile; the secret is asked (hidden) or read from stdin",
        description="Add a profile. The client secret is asked with a hidden prompt, or read from standard "
        "input with --secret-stdin; it is never taken from an argument. With --binding-keys-stdin the "
        "binding keys as copied (TokenURL, clientID, clientSecret; or the App Service's Access Key and "
        "Secret Key; or the welcome e-mail's block) are read from standard input instead.",
        epilog="examples:\n"
        "  ihub keys add plant --gateway eu1 --client-id acme-tool-1.0.0-1234 --secret-stdin < secret.txt\n"
        "  ihub keys add plant --gateway eu1 --binding-keys-stdin < binding-keys.txt",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument("--gateway", required=True, metavar="URL", help="gateway URL or region (eu1, eu2, ...)")
    add.add_argument(
        "--token-url", default="", metavar="URL", help="TokenURL (default: derived from gateway and tenant)"
    )
    add.add_argument(
        "--client-id",
        default="",
        metavar="ID",
        help="clientID (the Access Key); required without binding keys",
    )
    add.add_argument("--style", choices=STYLES, help="credential style (default: detected from the TokenURL)")
    add.add_argument("--tenant", default="", help="tenant (default: from a <tenant>-<app>-<version>-... id)")
    add.add_argument("--app-name", default="", help="app name (app credentials)")
    add.add_argument("--app-version", default="", help="app version (app credentials)")
    add.add_argument("--ca-bundle", default=None, metavar="PEM", help="extra CA certificates (PEM file)")
    add.add_argument("--read-only", action="store_true", help="refuse every change through this profile")
    add.add_argument(
        "--production",
        action="store_true",
        help="a production tenant: marked in the header, destructive actions ask for the name typed",
    )
    source = add.add_mutually_exclusive_group()
    source.add_argument(
        "--secret-stdin", action="store_true", help="read the client secret from standard input (one line)"
    )
    source.add_argument(
        "--binding-keys-stdin",
        action="store_true",
        help="read the binding keys from standard input: client id, client secret and (if given) token URL, "
        "with any of their labels",
    )
    add.add_argument(
        "--store",
        choices=[k.value for k in StoreKind],
        help="where the secret goes (default: the OS keyring; without one, the vault when "
        f"{ENV_VAULT_PASSPHRASE} is set)",
    )
    add.add_argument("--default", action="store_true", help="make it the default profile")

    remove = sub.add_parser(
        "remove",
        help="remove a profile and its stored secret (a production profile: the name typed or --confirm)",
    )
    remove.add_argument("name", metavar="NAME")
    add_confirm_arguments(remove, "profile's name")

    use = sub.add_parser("use", help="make a profile the default")
    use.add_argument("name", metavar="NAME")

    test = sub.add_parser(
        "test",
        help="fetch a token and call the API once; print a diagnosis on failure",
        description="Fetch a token and read the root asset. Exit status 0 only when both succeed; otherwise "
        "a step-by-step diagnosis is printed and the status is 2.",
    )
    test.add_argument("name", nargs="?", metavar="NAME", help="profile (default: the selected one)")
    test.add_argument("-o", "--output", choices=("table", "json"), default="table", help="output format")
    test.add_argument("--json", action="store_const", const="json", dest="output", help="the same as -o json")

    keys.set_defaults(keys_parser=keys)


# --------------------------------------------------------------------------------------------------
# Runner
# --------------------------------------------------------------------------------------------------
def run(
    args: argparse.Namespace,
    services: Services | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    prompt: Callable[[str], str] | None = None,
) -> int:
    """Run one ``ihub keys`` command; returns the exit code. Never raises for expected failures."""
    from tui.cli.common import session_services

    services = session_services(args, services)
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
        return EXIT_USAGE
    except NoSecureStoreError as exc:
        runner.error(_no_store_text(exc.reason))
        return EXIT_NO_STORE
    except EOFError:
        runner.error("no input")
        return EXIT_ERROR
    except KeyboardInterrupt:
        runner.error("interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:  # every expected failure is typed; error_text words the rest plainly
        runner.error(error_line(exc))
        return exit_code_for(exc)


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
        services: Services,
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
        if args.output == "json":
            self.say(json.dumps({"profiles": rows, "active": active}, indent=2))
            return EXIT_OK
        if args.output == "csv":
            print_rows(rows, "csv", list(rows[0]) if rows else list(self._row_keys()), out=self.out)
            return EXIT_OK
        if not rows:
            self.say("no profiles yet: add one with 'ihub keys add NAME --gateway eu1 --client-id ...'")
            return EXIT_OK
        table = [
            {
                "mark": "*" if r["default"] else (">" if r["active"] else ""),
                "name": r["name"],
                "gateway": r["gateway"],
                "client_id": r["client_id"],
                "style": "app" if r["style"] == "app_credentials" else "client",
                "tenant": r["tenant"] or "-",
                "ro": "yes" if r["read_only"] else "",
                "prod": "yes" if r["production"] else "",
                "secret": r["secret"] or "none",
                "env": ",".join(r["env_fields"]) or "",
            }
            for r in rows
        ]
        headers = {"mark": "", "client_id": "CLIENT ID", "ro": "RO", "prod": "PROD", "env": "FROM ENV"}
        print_rows(table, "table", list(table[0]), out=self.out, headers=headers)
        self.say(
            "* default, > selected by IHUB_PROFILE; SECRET: where the secret is; FROM ENV: IHUB_* overrides"
        )
        return EXIT_OK

    @staticmethod
    def _row_keys() -> tuple[str, ...]:
        return ("name", *SAVED_FIELDS, "default", "active", "secret", "env_fields")

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
            "production": self.services.safety(profile).production,
            "ca_bundle": profile.ca_bundle,
            "default": profile.name == self.profiles.default_name,
            "active": profile.name == active,
            "secret": secret,
            "env_fields": sorted(profile.env_fields),
        }

    # -- add ----------------------------------------------------------------------------------------
    def warn(self, text: str) -> None:
        print(f"ihub keys: warning: {text}", file=self.err)

    def add(self, args: argparse.Namespace) -> int:
        refuse_local_change(self.services, "add a profile")
        keys: BindingKeys | None = None
        client_id, token_url = args.client_id, args.token_url
        if args.binding_keys_stdin:
            keys = self._read_binding_keys(args.gateway)
            client_id, token_url = self._merge_binding_keys(keys, client_id, token_url)
        elif not client_id.strip():
            raise KeysCommandError(
                "give the client id with --client-id, or pipe the binding keys with --binding-keys-stdin",
                EXIT_USAGE,
            )
        profile = profile_from_fields(
            args.name,
            args.gateway,
            token_url,
            client_id,
            style=args.style,
            tenant=args.tenant,
            app_name=args.app_name,
            app_version=args.app_version,
            read_only=args.read_only,
            production=args.production,
            ca_bundle=args.ca_bundle,
        )
        if profile.name in self.profiles:
            raise KeysCommandError(f"a profile named {profile.name!r} already exists (remove it first)")
        for warning in profile_warnings(profile):
            self.warn(warning)

        kind = self._choose_store(args)
        secret = ""
        if kind is not StoreKind.ENV:
            from_stdin = args.secret_stdin or args.binding_keys_stdin
            if kind is StoreKind.VAULT:
                self._open_vault(new_ok=True, allow_prompt=not from_stdin)
            secret = (
                keys.client_secret if keys is not None else self._read_secret(profile.name, args.secret_stdin)
            )

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
                    "use --store keyring, vault or env (the app itself offers session-only secrets)",
                    EXIT_USAGE,
                )
            if kind is StoreKind.KEYRING:
                status = self.secrets.keyring_status()
                if not status.usable:
                    raise KeysCommandError(f"the OS keyring is not usable: {status.reason}", EXIT_NO_STORE)
            return kind
        default = self.secrets.default_kind()
        if default is None:
            raise NoSecureStoreError(self.secrets.keyring_status().reason)
        if default is StoreKind.SESSION:
            raise KeysCommandError(
                "this machine keeps secrets for the session only, which ends when this command exits; "
                "use --store vault or --store env",
                EXIT_NO_STORE,
            )
        return default

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
        """The client secret from standard input or the hidden prompt, through the one cleaning rule
        (a leading BOM and surrounding whitespace dropped; an invisible character refused, naming it)."""
        if from_stdin:
            text = self.stdin.read()
            if "\n" in text.strip("\r\n") or "\r" in text.strip("\r\n"):
                raise KeysCommandError(
                    "standard input holds more than one line; give only the client secret (or use "
                    "--binding-keys-stdin for the binding keys)",
                    EXIT_USAGE,
                )
        elif self._interactive():
            text = self.prompt(f"Client secret for {name}: ")
        else:
            raise KeysCommandError(
                "standard input is not a terminal, so the secret cannot be asked: pipe it with --secret-stdin"
            )
        try:
            return clean_secret(text)
        except InputError as exc:
            raise KeysCommandError(f"{error_text(exc)}; nothing was saved", EXIT_USAGE) from None

    def _read_binding_keys(self, gateway: str) -> BindingKeys:
        """Binding keys from standard input, parsed as the app's paste area parses them."""
        if self._interactive():
            print(
                "Paste the binding keys, then press Ctrl-D on a new line (to keep the secret off the screen, "
                "pipe them from a file instead):",
                file=self.err,
            )
        text = self.stdin.read()
        try:
            return parse_binding_keys(text, gateway=gateway)
        except ProfileError as exc:
            raise KeysCommandError(f"{error_text(exc)}; nothing was saved", EXIT_USAGE) from None

    def _merge_binding_keys(self, keys: BindingKeys, client_id: str, token_url: str) -> tuple[str, str]:
        """The client id and token URL to use: the binding keys', checked against the options given."""
        if client_id.strip() and clean_value(client_id, "client id") != keys.client_id:
            raise KeysCommandError(
                f"--client-id {client_id.strip()!r} differs from the client id in the binding keys "
                f"({keys.client_id!r}); give one of them",
                EXIT_USAGE,
            )
        given = validate_token_url(token_url) if token_url.strip() else ""
        if keys.token_url and not keys.token_url_derived:
            if given and given != keys.token_url:
                raise KeysCommandError(
                    f"--token-url {given!r} differs from the token URL in the binding keys "
                    f"({keys.token_url!r}); give one of them",
                    EXIT_USAGE,
                )
            return keys.client_id, keys.token_url
        if given:
            return keys.client_id, given
        if keys.token_url_derived:
            region = region_of(keys.token_url)
            self.warn(
                f"the binding keys hold no token URL; using {keys.token_url}, derived"
                + (f" for region {region}" if region else "")
                + " from the client id. If the welcome e-mail names another Token URL, give it with "
                "--token-url"
            )
            return keys.client_id, keys.token_url
        return keys.client_id, ""

    # -- remove, use --------------------------------------------------------------------------------
    def remove(self, args: argparse.Namespace) -> int:
        name = args.name
        refuse_local_change(self.services, "remove a profile")
        if name not in self.profiles:
            raise KeysCommandError(f"no profile named {name!r}", EXIT_NOT_FOUND)
        safety = self.services.safety(self.profiles.get(name))
        if safety.production or args.confirm_name is not None:
            confirm_destructive(
                f"Remove the profile {name!r} and its stored secret?",
                name,
                safety=safety,
                assume_yes=args.yes,
                confirm_name=args.confirm_name,
                stdin=self.stdin,
                err=self.err,
            )
        self.secrets.delete(name)
        self.profiles.remove(name)
        self.say(f"removed profile {name!r} and its stored secret")
        return EXIT_OK

    def use(self, args: argparse.Namespace) -> int:
        name = args.name
        refuse_local_change(self.services, "change the default profile")
        if name not in self.profiles:
            raise KeysCommandError(f"no profile named {name!r}", EXIT_NOT_FOUND)
        self.profiles.set_default(name)
        self.say(f"{name!r} is now the default profile")
        return EXIT_OK

    # -- test ---------------------------------------------------------------------------------------
    def test(self, args: argparse.Namespace) -> int:
        from tui.api.diagnose import diagnose
        from tui.errors import ServiceError

        # The profile as every command resolves it (Services: --profile, IHUB_*, the default, env-only).
        name = self.services.initial_profile_name(args.name or getattr(args, "profile", None))
        if name is None:
            raise KeysCommandError(
                "no profile selected: name one, or set a default with 'ihub keys use NAME'"
            )
        try:
            profile = self.services.resolve_profile(name)
        except ServiceError:
            raise KeysCommandError(f"no profile named {name!r}", EXIT_NOT_FOUND) from None

        secret = self._secret_for(profile)
        transport = self.services.transport()
        activity = self.services.recorder(profile.name)
        result = run_async(lambda: diagnose(profile, secret.value, transport=transport, activity=activity))
        if args.output == "json":
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
        return EXIT_OK if result.ok else EXIT_CHECK_FAILED

    def _secret_for(self, profile: Profile) -> Secret:
        from tui.errors import SecretNotStored

        unlock = prompt_unlock(self.services, self.prompt, self.stdin)
        try:
            return run_async(lambda: self.services.read_secret(profile, unlock))
        except KeyringUnavailableError as exc:
            raise KeysCommandError(f"{exc}; or set {ENV_CLIENT_SECRET}") from None
        except SecretNotStored:
            where = self.secrets.where(profile.name)
            if where is StoreKind.ENV:
                raise KeysCommandError(
                    f"profile {profile.name!r} expects its secret in {ENV_CLIENT_SECRET}"
                ) from None
            raise KeysCommandError(
                f"no secret stored for {profile.name!r}: add the profile again, or set {ENV_CLIENT_SECRET}"
            ) from None
