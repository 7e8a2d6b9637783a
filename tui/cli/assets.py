"""``ihub assets``: list, show, browse, create, change and delete assets of Asset Management v3.

Commands (issue 8 §3):

* ``ls [--name TEXT] [--type TYPEID] [--parent ID] [--filter JSON] [--shared] [--all] [--select F,...]``:
  rows are printed as pages arrive; ``--all`` reads every page with 16 pages in flight. ``-o json`` is one
  JSON array of asset objects with the API's field names (written page by page): every field of ``Asset``
  as the service sent it (``AssetRecord``: nested values are not rebuilt, ``_links`` are left out);
  ``-o csv`` has a header.
* ``show ID``: the facts of the app's details pane, static variables, aspects with latest values and a
  24 h trend (IoT Time Series v3, Aggregates v4). A section that cannot be read says why; the rest stays.
* ``tree [ID] [--depth N] [--limit N]``: the hierarchy as an indented tree (children read level by level,
  concurrently).
* ``types [--aspects] [--exploded]``: asset types (or aspect types).
* ``create --parent ID --type TYPEID --name NAME``, ``update ID [--name ...] [--description ...]
  [--external-id ...]``, ``delete ID [--yes | --confirm NAME]``: writes with ``If-Match`` (the etag read
  just before, or ``--etag``); refused by a read-only session or profile; ``delete`` asks unless ``--yes``
  (on a production profile: the name typed, or ``--confirm NAME``; ``tui.cli.common.confirm_destructive``).

Every command takes ``--dry-run`` (the requests as curl lines, token as ``$TOKEN``, an etag not read as
``$ETAG``) and the shared exit codes of ``tui/cli/common.py``: 0 ok, 1 API or network error, 2 usage,
4 not found, 5 refused (403, read-only profile, not confirmed), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, TextIO

from tui.cli.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    RowPrinter,
    Session,
    add_api_arguments,
    add_confirm_arguments,
    confirm_destructive,
    exit_code_for,
    open_api,
    print_rows,
    refuse_change,
    run_async,
)

if TYPE_CHECKING:
    from tui.api.client import ApiClient
    from tui.api.models import Aspect, Asset, AssetType
    from tui.services import Services

LIST_CONCURRENCY = 16  # pages in flight for `ls --all` (what the API-layer benchmark measured)
TREE_CONCURRENCY = 16
DEFAULT_COLUMNS = ("name", "typeId", "assetId", "path")
HEADERS = {"assetId": "ASSET ID", "typeId": "TYPE", "parentId": "PARENT ID", "path": "PATH"}
# Fields --select knows besides the asset's own (API names): the parents' names.
COMPUTED_FIELDS = ("path",)
DRY_ETAG = "$ETAG"


# --------------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``assets`` subcommands to the group's parser."""
    from tui.flows.assets import SEARCH_HELP

    sub = parser.add_subparsers(dest="assets_command", metavar="COMMAND")

    ls = sub.add_parser(
        "ls",
        help="list assets (filters combine)",
        description="List assets. Filters combine (all must hold). Without --all only the first page "
        f"(200) is printed. The app's search box reads the same: {SEARCH_HELP}.",
    )
    ls.add_argument("--name", metavar="TEXT", help="name contains TEXT (in any of the usual cases)")
    ls.add_argument("--type", metavar="TYPEID", help="of type TYPEID or a type derived from it")
    ls.add_argument("--parent", metavar="ID", help="children of asset ID")
    ls.add_argument("--filter", metavar="JSON", help='a raw filter, e.g. \'{"twinType":"simulation"}\'')
    ls.add_argument("--shared", action="store_true", help="include assets shared into the tenant")
    ls.add_argument("--all", action="store_true", help="every page (read 16 at a time)")
    ls.add_argument(
        "--select",
        metavar="FIELD,...",
        help="fields to print, API names (assetId,name,typeId,parentId,externalId,...; path = parents)",
    )
    add_api_arguments(ls)

    show = sub.add_parser("show", help="one asset: facts, variables, aspects with latest values")
    show.add_argument("asset_id", metavar="ID")
    show.add_argument("--shared", action="store_true", help="the asset may be shared into the tenant")
    add_api_arguments(show)

    tree = sub.add_parser("tree", help="the hierarchy below an asset (default: the root) as a tree")
    tree.add_argument("asset_id", metavar="ID", nargs="?")
    tree.add_argument("--depth", type=_positive, default=3, metavar="N", help="levels below ID (default 3)")
    tree.add_argument(
        "--limit",
        type=_non_negative,
        default=200,
        metavar="N",
        help="children per asset, 0: all (default 200)",
    )
    tree.add_argument("--shared", action="store_true", help="include assets shared into the tenant")
    add_api_arguments(tree)

    types = sub.add_parser("types", help="asset types (or aspect types with --aspects)")
    types.add_argument("--aspects", action="store_true", help="aspect types instead of asset types")
    types.add_argument("--exploded", action="store_true", help="asset types with inherited variables")
    types.add_argument("--shared", action="store_true", help="include types shared into the tenant")
    add_api_arguments(types)

    create = sub.add_parser("create", help="create an asset under a parent")
    create.add_argument("--parent", required=True, metavar="ID")
    create.add_argument("--type", required=True, metavar="TYPEID")
    create.add_argument("--name", required=True)
    create.add_argument("--description")
    create.add_argument("--external-id", metavar="ID")
    create.add_argument(
        "--var", action="append", default=[], metavar="NAME=VALUE", help="a value for a type variable"
    )
    add_api_arguments(create)

    update = sub.add_parser("update", help="change name, description or external id (If-Match)")
    update.add_argument("asset_id", metavar="ID")
    update.add_argument("--name")
    update.add_argument("--description")
    update.add_argument("--external-id", metavar="ID")
    update.add_argument("--etag", metavar="ETAG", help="the etag you read (default: read it now)")
    add_api_arguments(update)

    delete = sub.add_parser(
        "delete",
        help="delete an asset (asks unless --yes; on a production profile the name is typed or --confirm)",
    )
    delete.add_argument("asset_id", metavar="ID")
    add_confirm_arguments(delete, "asset's name")
    delete.add_argument("--etag", metavar="ETAG", help="the etag you read (default: read it now)")
    add_api_arguments(delete, output=None)

    parser.set_defaults(assets_parser=parser)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


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
) -> int:
    """Run one ``ihub assets`` command; returns the exit code. Never raises for expected failures."""
    from tui.cli.common import session_services

    services = session_services(args, services)
    runner = _Runner(services, args, stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr)
    command = getattr(args, "assets_command", None)
    handler = {
        "ls": runner.ls,
        "show": runner.show,
        "tree": runner.tree,
        "types": runner.types,
        "create": runner.create,
        "update": runner.update,
        "delete": runner.delete,
    }.get(command or "")
    if handler is None:
        parser = getattr(args, "assets_parser", None)
        if parser is not None:
            parser.print_help(runner.out)
        return EXIT_USAGE
    try:
        return run_async(handler)
    except KeyboardInterrupt:
        runner.error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `ihub assets ls | head`
        return EXIT_OK
    except Exception as exc:  # typed errors carry plain words; error_text words the rest
        from tui.errors import error_text

        runner.error(exc.args[0] if isinstance(exc, CommandError) else error_text(exc))
        return exit_code_for(exc)


class _Runner:
    def __init__(
        self, services: Services, args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO
    ) -> None:
        self.services = services
        self.args = args
        self.stdin = stdin
        self.out = out
        self.err = err

    def error(self, text: str) -> None:
        print(f"ihub assets: {text}", file=self.err)

    def note(self, text: str) -> None:
        print(text, file=self.err)

    def _write_bytes(self, data: bytes) -> None:
        """UTF-8 ``data`` to the output: straight to its binary buffer when it has one (standard output,
        a file), else decoded (a StringIO)."""
        buffer = getattr(self.out, "buffer", None)
        if buffer is not None:
            self.out.flush()
            buffer.write(data)
            buffer.flush()
        else:
            self.out.write(data.decode())
            self.out.flush()

    def _session(self) -> Any:
        return open_api(self.services, self.args.profile, dry_run=self.args.dry_run, out=self.out)

    @property
    def _shared(self) -> bool | None:
        return True if getattr(self.args, "shared", False) else None

    async def _run(self, body: Callable[[Session], Awaitable[int]]) -> int:
        from tui.api.errors import ResponseFormatError

        async with self._session() as session:
            try:
                return await body(session)
            except ResponseFormatError:
                if session.dry_run:
                    return EXIT_OK  # the dry run answers `{}`: what follows depends on a real answer
                raise

    # -- ls ------------------------------------------------------------------------------------------
    def _ls_filter(self) -> dict[str, Any] | None:
        from tui.flows.assets import SearchError, combine, name_contains, parse_filter_json

        args = self.args
        try:
            raw = parse_filter_json(args.filter) if args.filter else None
        except SearchError as err:
            raise CommandError(f"--filter: {err}", EXIT_USAGE) from None
        return combine(
            name_contains(args.name) if args.name else None,
            {"hasType": args.type} if args.type else None,
            {"parentId": args.parent} if args.parent else None,
            raw,
        )

    def _columns(self) -> tuple[list[str], bool]:
        """The fields to print and whether they were chosen (``--select``)."""
        from tui.api.models import Asset

        select = self.args.select
        if not select:
            return list(DEFAULT_COLUMNS), False
        known = [*Asset.__struct_encode_fields__, *COMPUTED_FIELDS]
        fields = [f.strip() for f in select.split(",") if f.strip()]
        unknown = [f for f in fields if f not in known]
        if unknown or not fields:
            raise CommandError(
                f"--select: unknown field {', '.join(unknown) or '(none given)'}; known: {', '.join(known)}",
                EXIT_USAGE,
            )
        return fields, True

    async def ls(self) -> int:
        query = self._ls_filter()
        columns, picked = self._columns()

        async def body(session: Session) -> int:
            api = session.api
            fmt = self.args.output
            fast_json = fmt == "json" and not picked
            printer = RowPrinter(fmt, columns, self.out, HEADERS, pick=picked)
            started = False
            count = 0

            def emit(assets: Sequence[Any]) -> None:
                nonlocal started, count
                if session.dry_run or not assets:
                    return
                count += len(assets)
                if fast_json:
                    from tui.api.decode import encode

                    body = encode(assets)[1:-1]  # the page's objects, API field names, UTF-8
                    self._write_bytes((b"[\n" if not started else b",\n") + body)
                    started = True
                else:
                    printer.add(_row(a, columns) for a in assets)

            # JSON without --select passes the service's objects on (AssetRecord: not looked into).
            if self.args.all:
                pages = (
                    api.assets.record_pages(query, include_shared=self._shared, concurrency=LIST_CONCURRENCY)
                    if fast_json
                    else api.assets.list_pages(
                        query, include_shared=self._shared, concurrency=LIST_CONCURRENCY, share_paths=False
                    )
                )
                async for page in pages:
                    emit(page)
                total = count
            else:
                first_page = api.assets.record_page if fast_json else api.assets.page
                first, total = await first_page(0, 200, query, include_shared=self._shared)
                emit(first)
            if session.dry_run:
                return EXIT_OK
            if fast_json:
                self.out.write("\n]\n" if started else "[]\n")
                self.out.flush()
            else:
                printer.close()
            if total > count:
                self.note(f"{count:,} of {total:,} assets shown; add --all for every one")
            elif count == 0 and fmt == "table":
                self.note("no asset matches")
            return EXIT_OK

        return await self._run(body)

    # -- show ----------------------------------------------------------------------------------------
    async def show(self) -> int:
        async def body(session: Session) -> int:
            api = session.api
            asset = await api.assets.get(self.args.asset_id, include_shared=self._shared)
            report = await _gather_show(api, asset, self._shared)
            if session.dry_run:
                return EXIT_OK
            fmt = self.args.output
            if fmt == "json":
                print(json.dumps(report.to_json(), indent=2, ensure_ascii=False, default=str), file=self.out)
            elif fmt == "csv":
                print_rows(report.rows(), "csv", SHOW_COLUMNS, out=self.out)
            else:
                report.print(self.out)
            for problem in report.problems:
                self.note(f"ihub assets: {problem}")
            return EXIT_OK

        return await self._run(body)

    # -- tree ----------------------------------------------------------------------------------------
    async def tree(self) -> int:
        async def body(session: Session) -> int:
            api = session.api
            shared = self._shared
            if self.args.asset_id:
                top = await api.assets.get(self.args.asset_id, include_shared=shared)
            else:
                top = await api.assets.root(include_shared=shared)
            nodes = await _read_tree(api, top, self.args.depth, self.args.limit, shared)
            if session.dry_run:
                return EXIT_OK
            fmt = self.args.output
            if fmt == "json":
                print(json.dumps(nodes.to_json(), indent=2, ensure_ascii=False), file=self.out)
            elif fmt == "csv":
                print_rows(
                    nodes.rows(),
                    "csv",
                    ("depth", "assetId", "name", "typeId", "parentId", "path"),
                    out=self.out,
                )
            else:
                for line in nodes.lines():
                    print(line, file=self.out)
            return EXIT_OK

        return await self._run(body)

    # -- types ---------------------------------------------------------------------------------------
    async def types(self) -> int:
        async def body(session: Session) -> int:
            api = session.api
            shared = self._shared
            if self.args.aspects:
                items: list[Any] = [t async for t in api.assets.aspect_types(include_shared=shared)]
                columns = ["id", "name", "category", "scope", "variables"]

                def row(t: Any) -> dict[str, Any]:
                    variables = ", ".join(
                        f"{v.name}:{v.data_type}" + (f"[{v.unit}]" if v.unit else "") for v in t.variables
                    )
                    return {
                        "id": t.id,
                        "name": t.name,
                        "category": t.category,
                        "scope": t.scope,
                        "variables": variables,
                    }
            else:
                exploded = True if self.args.exploded else None
                items = [t async for t in api.assets.asset_types(exploded=exploded, include_shared=shared)]
                columns = ["id", "name", "parentTypeId", "instantiable", "scope", "aspects", "variables"]

                def row(t: Any) -> dict[str, Any]:
                    return {
                        "id": t.id,
                        "name": t.name,
                        "parentTypeId": t.parent_type_id,
                        "instantiable": t.instantiable,
                        "scope": t.scope,
                        "aspects": ", ".join(f"{a.name}:{a.aspect_type_id}" for a in t.aspects),
                        "variables": ", ".join(v.name for v in t.variables),
                    }

            if session.dry_run:
                return EXIT_OK
            if self.args.output == "json":
                print(json.dumps([t.to_json() for t in items], indent=2, ensure_ascii=False), file=self.out)
            else:
                print_rows([row(t) for t in items], self.args.output, columns, out=self.out)
            return EXIT_OK

        return await self._run(body)

    # -- writes --------------------------------------------------------------------------------------
    def _refuse_read_only(self, session: Session, what: str) -> None:
        refuse_change(self.services, session.profile, what)

    def _print_asset(self, asset: Asset) -> None:
        from tui.flows.assets import asset_row, fact_rows

        fmt = self.args.output
        if fmt == "json":
            print(json.dumps(asset.to_json(), indent=2, ensure_ascii=False), file=self.out)
        elif fmt == "csv":
            print_rows([asset_row(asset)], "csv", out=self.out)
        else:
            for label, value in fact_rows(asset):
                print(f"{label:<14} {value}", file=self.out)

    async def create(self) -> int:
        variables = []
        for item in self.args.var:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise CommandError(f"--var {item!r}: write NAME=VALUE", EXIT_USAGE)
            variables.append({"name": name.strip(), "value": value})
        name = _clean(self.args.name, "name", required=True) or ""

        async def body(session: Session) -> int:
            self._refuse_read_only(session, "create an asset")
            created = await session.api.assets.create(
                name,
                self.args.type,
                self.args.parent,
                description=_clean(self.args.description, "description"),
                external_id=_clean(self.args.external_id, "external id"),
                variables=variables or None,
            )
            if not session.dry_run:
                self._print_asset(created)
            return EXIT_OK

        return await self._run(body)

    async def _etag(self, session: Session, asset_id: str) -> tuple[Any, str]:
        """The etag to send (``--etag``, or read now) and the asset's name."""
        given = self.args.etag
        try:
            asset = await session.api.assets.get(asset_id)
        except Exception:
            if session.dry_run:
                return given or DRY_ETAG, asset_id
            raise
        return (given if given else asset.etag), asset.name

    async def update(self) -> int:
        patch: dict[str, Any] = {}
        if self.args.name is not None:
            patch["name"] = _clean(self.args.name, "name", required=True)
        if self.args.description is not None:
            patch["description"] = _clean(self.args.description, "description")
        if self.args.external_id is not None:
            patch["externalId"] = _clean(self.args.external_id, "external id")
        if not patch:
            raise CommandError("nothing to change: give --name, --description or --external-id", EXIT_USAGE)

        async def body(session: Session) -> int:
            from tui.api.errors import PreconditionFailedError

            self._refuse_read_only(session, "change an asset")
            asset_id = self.args.asset_id
            etag, name = await self._etag(session, asset_id)
            try:
                updated = await session.api.assets.patch(asset_id, etag, patch)
            except PreconditionFailedError:
                raise CommandError(
                    f"someone else changed {name} since etag {etag}: nothing was overwritten; "
                    "read it again (ihub assets show) and repeat the change",
                    EXIT_ERROR,
                ) from None
            if not session.dry_run:
                self._print_asset(updated)
            return EXIT_OK

        return await self._run(body)

    async def delete(self) -> int:
        async def body(session: Session) -> int:
            from tui.api.errors import ConflictError, PreconditionFailedError

            self._refuse_read_only(session, "delete an asset")
            asset_id = self.args.asset_id
            etag, name = await self._etag(session, asset_id)
            if not session.dry_run:
                await asyncio.to_thread(
                    partial(
                        confirm_destructive,
                        f"Delete asset {name} ({asset_id})?",
                        name,
                        safety=self.services.safety(session.profile),
                        assume_yes=self.args.yes,
                        confirm_name=self.args.confirm_name,
                        stdin=self.stdin,
                        err=self.err,
                    )
                )
            try:
                await session.api.assets.delete(asset_id, etag)
            except PreconditionFailedError:
                raise CommandError(
                    f"someone else changed {name} since etag {etag}: nothing was deleted", EXIT_ERROR
                ) from None
            except ConflictError as err:
                raise CommandError(f"{name} was not deleted: {err.message}", EXIT_ERROR) from None
            if not session.dry_run:
                print(f"deleted {name} ({asset_id})", file=self.out)
            return EXIT_OK

        return await self._run(body)


def _clean(value: str | None, what: str, *, required: bool = False) -> str | None:
    from tui.config.inputs import InputError, clean_value

    if value is None:
        return None
    try:
        text = clean_value(value, what, allow_spaces=True)
    except InputError as err:
        raise CommandError(str(err), EXIT_USAGE) from None
    if required and not text:
        raise CommandError(f"the {what} is empty", EXIT_USAGE)
    return text


def _row(asset: Asset, columns: Sequence[str]) -> dict[str, Any]:
    from tui.api.decode import to_builtins

    data = (
        to_builtins(asset)
        if any(c not in ("name", "assetId", "typeId", "parentId", "path") for c in columns)
        else {
            "name": asset.name,
            "assetId": asset.asset_id,
            "typeId": asset.type_id,
            "parentId": asset.parent_id,
        }
    )
    if "path" in columns:
        data["path"] = "/".join(entry.name for entry in asset.hierarchy_path)
    return {c: data.get(c) for c in columns}


# --------------------------------------------------------------------------------------------------
# show
# --------------------------------------------------------------------------------------------------
SHOW_COLUMNS = ("section", "aspect", "name", "value", "unit", "dataType", "time", "quality")


class _ShowReport:
    """Everything ``show`` prints, gathered section by section (a failed section keeps its reason)."""

    def __init__(self, asset: Asset) -> None:
        self.asset = asset
        self.chain: list[AssetType] = []
        self.asset_type: AssetType | None = None
        self.aspects: list[Aspect] = []
        self.latest: dict[str, Any] = {}
        self.trends: dict[str, dict[str, list[float | None]]] = {}
        self.errors: dict[str, str] = {}

    @property
    def problems(self) -> list[str]:
        return [f"{section}: {message}" for section, message in self.errors.items()]

    def static_rows(self) -> list[Any]:
        from tui.api.models import static_values

        return [v for v in static_values(self.asset, self.asset_type) if v.aspect is None]

    def to_json(self) -> dict[str, Any]:
        from tui.flows.assets import typed_value

        aspects = []
        for aspect in self.aspects:
            latest = self.latest.get(aspect.name)
            trend = self.trends.get(aspect.name, {})
            variables = []
            for v in aspect.variables:
                item: dict[str, Any] = {
                    "name": v.name,
                    "dataType": v.data_type,
                    "unit": v.unit,
                    "qualityCode": v.quality_code,
                }
                if aspect.is_dynamic:
                    found = latest.values.get(v.name) if latest is not None else None
                    item["latest"] = (
                        {
                            "value": found.value,
                            "time": found.time.isoformat().replace("+00:00", "Z") if found.time else None,
                            "quality": found.quality,
                        }
                        if found is not None
                        else None
                    )
                    if v.name in trend:
                        item["trend24h"] = trend[v.name]
                else:
                    item["value"] = typed_value(self.asset.static_value(v.name, aspect.name), v.data_type)
                variables.append(item)
            aspects.append(
                {
                    "name": aspect.name,
                    "category": aspect.category,
                    "aspectTypeId": aspect.aspect_type_id,
                    "variables": variables,
                }
            )
        return {
            "asset": self.asset.to_json(),
            "typeChain": [t.id for t in self.chain],
            "variables": [
                {
                    "name": v.name,
                    "value": typed_value(v.value, v.data_type),
                    "unit": v.unit,
                    "dataType": v.data_type,
                }
                for v in self.static_rows()
            ],
            "aspects": aspects,
            "errors": self.errors,
        }

    def rows(self) -> list[dict[str, Any]]:
        from tui.flows.assets import fact_rows, format_time_short

        rows: list[dict[str, Any]] = []
        for label, value in fact_rows(self.asset, self.chain, self.asset.tenant_id):
            rows.append({"section": "fact", "name": label, "value": value})
        for v in self.static_rows():
            rows.append(
                {
                    "section": "variable",
                    "name": v.name,
                    "value": v.value,
                    "unit": v.unit,
                    "dataType": v.data_type,
                }
            )
        for aspect in self.aspects:
            latest = self.latest.get(aspect.name)
            for v in aspect.variables:
                row: dict[str, Any] = {
                    "section": "latest" if aspect.is_dynamic else "static",
                    "aspect": aspect.name,
                    "name": v.name,
                    "unit": v.unit,
                    "dataType": v.data_type,
                }
                if aspect.is_dynamic:
                    found = latest.values.get(v.name) if latest is not None else None
                    if found is not None:
                        row["value"] = found.value
                        row["time"] = format_time_short(found.time) if found.time else ""
                        row["quality"] = found.quality
                else:
                    row["value"] = self.asset.static_value(v.name, aspect.name)
                rows.append(row)
        return rows

    def print(self, out: TextIO) -> None:
        from tui.flows.assets import fact_rows, format_clock, format_value, quality_word, spark

        asset = self.asset
        tenant = asset.tenant_id
        for label, value in fact_rows(asset, self.chain, tenant):
            print(f"{label:<14} {value}", file=out)
        if "type" in self.errors:
            print(f"{'':<14} ⚠ {self.errors['type']}", file=out)
        statics = self.static_rows()
        print("\nVariables", file=out)
        if not statics:
            print("  none", file=out)
        width = max((len(v.name) for v in statics), default=0)
        for v in statics:
            value = _cut(format_value(v.value, v.data_type, v.unit))
            print(f"  {v.name:<{width}}  {value:<{VALUE_WIDTH}}  {v.data_type or ''}".rstrip(), file=out)
        print("\nAspects", file=out)
        if "aspects" in self.errors:
            print(f"  ⚠ {self.errors['aspects']}", file=out)
        elif not self.aspects:
            print("  none", file=out)
        width = max((len(v.name) for a in self.aspects for v in a.variables), default=0)
        for aspect in sorted(self.aspects, key=lambda a: not a.is_dynamic):
            latest = self.latest.get(aspect.name)
            kind = "dynamic" if aspect.is_dynamic else (aspect.category or "static")
            when = f", latest at {format_clock(latest.time)}" if latest is not None and latest.time else ""
            print(f"  {aspect.name} ({kind}, {aspect.aspect_type_id}{when})", file=out)
            for key in (f"latest values of {aspect.name}", f"24 h trend of {aspect.name}"):
                if key in self.errors:
                    print(f"    ⚠ {key}: {self.errors[key]}", file=out)
            for v in aspect.variables:
                quality, trend = "", ""
                if aspect.is_dynamic:
                    found = latest.values.get(v.name) if latest is not None else None
                    value = format_value(found.value, v.data_type, v.unit) if found is not None else "-"
                    quality = quality_word(found.quality) if found is not None and v.quality_code else ""
                    trend = spark(self.trends.get(aspect.name, {}).get(v.name, []))
                else:
                    value = format_value(asset.static_value(v.name, aspect.name), v.data_type, v.unit)
                cells = f"{_cut(value):<{VALUE_WIDTH}}  {quality:<9}  {trend:<24}  {v.data_type or ''}"
                print(f"    {v.name:<{width}}  {cells}".rstrip(), file=out)


VALUE_WIDTH = 24


def _cut(text: str, width: int = VALUE_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


async def _gather_show(api: ApiClient, asset: Asset, shared: bool | None) -> _ShowReport:
    """Read the sections of ``show`` at once; each failure is kept in words (``section_error``)."""
    from tui.flows.assets import now_utc, read_latest, read_trend, section_error

    report = _ShowReport(asset)
    now = now_utc(api.server_time)  # the service's now (a skewed local clock must not shift the 24 h)

    async def types() -> None:
        if not asset.type_id:
            return
        try:
            report.asset_type = await api.assets.asset_type(
                asset.type_id, exploded=True, include_shared=shared
            )
            report.chain = await api.assets.asset_type_chain(asset.type_id, include_shared=shared)
        except Exception as err:
            report.errors["type"] = section_error(err, "the asset type")

    async def latest(aspect: Aspect) -> None:
        try:
            report.latest[aspect.name] = await read_latest(api, asset.asset_id, aspect)
        except Exception as err:
            report.errors[f"latest values of {aspect.name}"] = section_error(err, "time series")

    async def trend(aspect: Aspect) -> None:
        try:
            report.trends[aspect.name] = await read_trend(api, asset.asset_id, aspect, now)
        except Exception as err:
            report.errors[f"24 h trend of {aspect.name}"] = section_error(err, "aggregates")

    async def aspects() -> None:
        try:
            report.aspects = await api.assets.aspects(asset.asset_id, include_shared=shared)
        except Exception as err:
            report.errors["aspects"] = section_error(err, "aspects")
            return
        dynamic = [a for a in report.aspects if a.is_dynamic]
        await asyncio.gather(*(latest(a) for a in dynamic), *(trend(a) for a in dynamic))

    await asyncio.gather(types(), aspects())
    return report


# --------------------------------------------------------------------------------------------------
# tree
# --------------------------------------------------------------------------------------------------
class _TreeNode:
    def __init__(self, asset: Asset) -> None:
        self.asset = asset
        self.children: list[_TreeNode] = []
        self.more = 0  # children not read (--limit)
        self.error: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "assetId": self.asset.asset_id,
            "name": self.asset.name,
            "typeId": self.asset.type_id,
            "children": [c.to_json() for c in self.children],
        }
        if self.more:
            data["moreChildren"] = self.more
        if self.error:
            data["error"] = self.error
        return data

    def rows(self, depth: int = 0) -> list[dict[str, Any]]:
        a = self.asset
        found = [
            {
                "depth": depth,
                "assetId": a.asset_id,
                "name": a.name,
                "typeId": a.type_id,
                "parentId": a.parent_id,
                "path": "/".join(a.path_names[:-1]),
            }
        ]
        for child in self.children:
            found.extend(child.rows(depth + 1))
        return found

    def lines(self, prefix: str = "", last: bool = True, top: bool = True) -> list[str]:
        from tui.flows.assets import short_type

        a = self.asset
        marks = ""
        if a.is_shared:
            marks = f"  ⇄ shared by {a.owner_tenant}"
        elif a.is_sharer:
            marks = "  ⇆ shared"
        label = f"{a.name}  [{short_type(a.type_id, a.tenant_id)}]  {a.asset_id}{marks}"
        out = [label if top else f"{prefix}{'└─ ' if last else '├─ '}{label}"]
        child_prefix = "" if top else prefix + ("   " if last else "│  ")
        extra = [f"⚠ {self.error}"] if self.error else []
        if self.more:
            extra.append(f"… {self.more:,} more (raise --limit)")
        for index, child in enumerate(self.children):
            out.extend(child.lines(child_prefix, index == len(self.children) - 1 and not extra, top=False))
        for index, text in enumerate(extra):
            out.append(f"{child_prefix}{'└─ ' if index == len(extra) - 1 else '├─ '}{text}")
        return out


async def _read_tree(api: ApiClient, top: Asset, depth: int, limit: int, shared: bool | None) -> _TreeNode:
    """Read ``depth`` levels below ``top``, each level's children at once (at most ``TREE_CONCURRENCY``
    requests in flight), at most ``limit`` children per asset (0: all)."""
    from tui.api.errors import ApiError
    from tui.errors import error_text

    root = _TreeNode(top)
    gate = asyncio.Semaphore(TREE_CONCURRENCY)

    async def children(node: _TreeNode) -> None:
        query = {"parentId": node.asset.asset_id}
        async with gate:
            try:
                if limit and limit <= 200:
                    found, total = await api.assets.page(0, limit, query, include_shared=shared)
                else:
                    found = []
                    async for page in api.assets.list_pages(query, include_shared=shared):
                        found.extend(page)
                        if limit and len(found) >= limit:
                            break
                    total = await api.assets.count(query, include_shared=shared) if limit else len(found)
                    found = found[:limit] if limit else found
            except ApiError as err:
                node.error = f"children not read: {error_text(err)}"
                return
        node.children = [_TreeNode(a) for a in found]
        node.more = max(0, total - len(found))

    level = [root]
    for _ in range(depth):
        await asyncio.gather(*(children(n) for n in level))
        level = [c for n in level for c in n.children]
        if not level:
            break
    return root
