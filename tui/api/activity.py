"""The activity log: one JSON line per HTTP call the app, the CLI or the proxy makes (issue 12 §3).

Where it hooks in
    ``ApiClient`` sends everything through a ``LoggedAsyncClient`` (an ``httpx.AsyncClient`` whose
    ``send`` records each call), so API calls, retries, token requests and diagnostics all land here
    without any caller doing anything. The proxy records its forwarded requests with one line:
    ``server.subscribe(activity.proxy_listener(profile.name))``.

What a line holds (``ActivityEntry``, keys in this order; empty ones are left out)::

    {"time":"2025-03-01T09:30:12.345Z","profile":"plant","source":"app","kind":"api","method":"GET",
     "host":"gateway.eu1.mindsphere.io","path":"/api/assetmanagement/v3/assets","query":"page=0&size=200",
     "status":200,"ms":41.2,"bytes":18234,"logref":"d1c6f2..."}

``time`` is UTC (ISO 8601, ms), when the request was sent; ``host`` the host (and port, when the URL
names one); ``source`` app | cli | proxy; ``kind`` api |
token; ``query`` with secret-looking values replaced by ``REDACTED``; ``status`` is missing when no
answer came (``error`` then says why: "ConnectError: ...", or "cancelled" when the user or the app cancelled
the call, as leaving a screen cancels its calls: ``ActivityEntry.cancelled``, not a failure); ``ms`` until
the body was read; ``bytes`` the response body as received; ``logref`` the service's ``X-Correlation-ID``
header or, for an error, the ``logref``/correlation id of its body; ``error`` the service's one-line message
for a status of 400 and above (tokens and auth values scrubbed).

Never written: request or response headers, bodies, the token, the client secret. Token requests are
logged like any call (their path, status and timing) and nothing else.

Files: ``activity.jsonl`` in the platform's log folder (``AppPaths.activity_file``), mode 0600, rotated by
size with ``logging.handlers.RotatingFileHandler`` (5 files of 5 MiB kept: ``activity.jsonl.1`` is the
newest backup). Several processes may append at once: each line is one ``write`` in append mode, to the
file at the path (a process notices when another one rotated it), and rotations take turns (an
``flock`` on ``activity.jsonl.lock``). A line written while another process rotates may land in the
newest backup; ``read_entries`` reads the backups too, so nothing is lost for ``ihub log``.

The session keeps the latest calls in memory as well (``ActivityLog.session()``), each with a copy of
the request for "copy as curl" (``RequestCopy``: credentials already replaced by shell variables, bodies
up to 16 KiB); the demo keeps only that (no file).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import logging.handlers
import os
import re
import stat
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec

from tui.api import contract as C
from tui.api.curl import curl_command, safe_headers
from tui.api.errors import one_line, parse_error_body, scrub

try:
    import fcntl
except ImportError:  # Windows: rotations do not take turns
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "CANCELLED",
    "MAX_BYTES",
    "ActivityCall",
    "ActivityEntry",
    "ActivityLog",
    "ActivityRecorder",
    "LoggedAsyncClient",
    "RequestCopy",
    "log_files",
    "read_entries",
    "redact_query",
]

MAX_BYTES = 5 * 2**20  # one file's size before it is rotated
BACKUPS = 5  # rotated files kept besides the current one
SESSION_CALLS = 500  # calls kept in memory for the Requests view
MAX_KEPT_BODY = 16 * 1024  # request bodies kept in memory for "copy as curl" (500 calls: 8 MiB at most)
MAX_ERROR = 200  # characters of the service's error message kept in a line
REDACTED = "REDACTED"
# The error of a call cancelled before its answer came (by the user or the app): logged, never a failure.
CANCELLED = "cancelled"

# The request extension the token provider sets, so the log can tell token requests apart.
KIND_EXTENSION = "ihub_activity_kind"
KIND_API = "api"
KIND_TOKEN = "token"

_CORRELATION = C.CORRELATION_HEADER.lower()
# Query parameter names whose values are never written: anything named like a credential.
_SECRET_NAME = re.compile(
    r"(token|secret|passw|passphrase|signature|credential|assertion|code_verifier)"
    r"|(^|[_.-])(key|sig|apikey|api_key|access_key|private_key)$",
    re.IGNORECASE,
)


class ActivityEntry(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One logged call; its JSON line has the keys in this order (``query``, ``status``, ``logref`` and
    ``error`` are left out when empty)."""

    time: str
    profile: str
    source: str
    kind: str
    method: str
    host: str
    path: str
    query: str = ""
    status: int | None = None
    ms: float
    size: int = msgspec.field(name="bytes")
    logref: str | None = None
    error: str | None = None

    @property
    def cancelled(self) -> bool:
        """Cancelled by the user or the app before an answer came (leaving a screen cancels its calls)."""
        return self.status is None and self.error == CANCELLED

    @property
    def failed(self) -> bool:
        """No answer (other than for a cancelled call), or an answer of 400 and above: the service or the
        network failed."""
        if self.status is None:
            return self.error != CANCELLED
        return self.status >= 400

    @property
    def target(self) -> str:
        """The path with its (redacted) query."""
        return f"{self.path}?{self.query}" if self.query else self.path

    def to_dict(self) -> dict[str, Any]:
        """Every field, None for the empty ones (``ihub log -o json``)."""
        return {
            "time": self.time,
            "profile": self.profile,
            "source": self.source,
            "kind": self.kind,
            "method": self.method,
            "host": self.host,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "ms": self.ms,
            "bytes": self.size,
            "logref": self.logref,
            "error": self.error,
        }


_encode = msgspec.json.Encoder().encode
_decode_entry = msgspec.json.Decoder(ActivityEntry).decode


@dataclass(frozen=True, slots=True)
class RequestCopy:
    """What "copy as curl" needs of a request: credentials already replaced by shell variables.

    ``url`` is kept as given (an ``httpx.URL`` is turned into text only when the curl line is asked
    for); ``query``, when not None, replaces its query (the redacted one).
    """

    method: str
    url: httpx.URL | str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None = None
    omitted_body: int = 0
    query: str | None = None

    @property
    def url_text(self) -> str:
        url = self.url if isinstance(self.url, httpx.URL) else httpx.URL(self.url)
        if self.query is not None:
            url = url.copy_with(query=self.query.encode("ascii", "replace") if self.query else None)
        return str(url)

    def curl(self) -> str:
        return curl_command(
            self.method, self.url_text, self.headers, self.body, omitted_body=self.omitted_body
        )

    @classmethod
    def of(cls, request: httpx.Request, query: str) -> RequestCopy:
        """A copy of ``request`` with ``query`` (its redacted query) instead of its own."""
        body: bytes | None = None
        omitted = 0
        try:
            content = request.content
        except httpx.RequestNotRead:
            content = b""
            omitted = int(request.headers.get("content-length") or 0)
        if len(content) > MAX_KEPT_BODY:
            omitted = len(content)
        elif content:
            body = content
        own = request.url.query.decode("ascii", "replace")
        return cls(
            request.method,
            request.url,
            safe_headers(request.headers.items()),
            body,
            omitted,
            None if own == query else query,
        )


@dataclass(frozen=True, slots=True)
class ActivityCall:
    """One call of this session: the logged entry, its epoch time and the request copy (if kept)."""

    number: int
    at: float
    entry: ActivityEntry
    request: RequestCopy | None = None

    def curl(self) -> str | None:
        return self.request.curl() if self.request is not None else None


def redact_query(query: str) -> str:
    """``query`` with the value of every credential-like parameter replaced by ``REDACTED``."""
    if not query or "=" not in query:
        return query
    parts = query.split("&")
    changed = False
    for i, part in enumerate(parts):
        name, sep, _value = part.partition("=")
        if sep and _SECRET_NAME.search(name):
            parts[i] = f"{name}={REDACTED}"
            changed = True
    return "&".join(parts) if changed else query


def iso_time(at: float) -> str:
    """Epoch seconds as ``2025-03-01T09:30:12.345Z``."""
    whole = int(at)
    millis = int((at - whole) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


class PrivateRotatingFile(logging.handlers.RotatingFileHandler):
    """A size-rotated file of lines, created with mode 0600; a failure is kept, never printed."""

    def __init__(self, path: Path, max_bytes: int, backups: int, on_error: Callable[[str], None]) -> None:
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True)
        self._on_error = on_error
        self._file_id: tuple[int, int] | None = None  # (device, inode) of the open file
        self._regular = True

    def _open(self) -> Any:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)  # noqa: SIM115 - the handler owns it

    def handleError(self, record: logging.LogRecord | None) -> None:  # noqa: N802 - logging's name
        import sys

        error = sys.exc_info()[1]
        self._on_error(f"{type(error).__name__}: {error}" if error else "unknown error")

    def write_line(self, text: str) -> None:
        """``text`` as one line, rotating first when the file would reach ``maxBytes``: what ``handle``
        does with a record, without building the record and formatting it twice (the activity log writes
        a line per API call). One ``stat`` of the path per line gives the file's size, lines of other
        processes included, and tells when another process rotated or removed the file this one has
        open: the line then goes to the current file (reopened), never into a backup or a deleted file."""
        line = text + "\n"
        assert self.lock is not None  # logging.Handler creates it
        with self.lock:
            try:
                try:
                    status: os.stat_result | None = os.stat(self.baseFilename)
                except FileNotFoundError:
                    status = None
                if self.stream is not None and (
                    status is None or (status.st_dev, status.st_ino) != self._file_id
                ):
                    self.stream.close()  # rotated or removed by another process: write to the new one
                    self.stream = None
                if self.stream is None:
                    self.stream = self._open()
                    status = os.fstat(self.stream.fileno())
                    self._file_id = (status.st_dev, status.st_ino)
                    self._regular = stat.S_ISREG(status.st_mode)  # never rotate /dev/null (bpo-45401)
                assert status is not None
                size = len(line.encode("utf-8")) if not line.isascii() else len(line)
                rotate = self._regular and self.maxBytes > 0 and status.st_size > 0
                if rotate and status.st_size + size >= self.maxBytes:
                    self._rotate_in_turn()
                    self.stream = self._open()
                    status = os.fstat(self.stream.fileno())
                    self._file_id = (status.st_dev, status.st_ino)
                self.stream.write(line)
                self.stream.flush()
            except Exception:  # noqa: BLE001 - kept and said once (on_error), never raised into a call
                self.handleError(None)

    def _rotate_in_turn(self) -> None:
        """``doRollover``, one process at a time: the app and CLI commands share the log, and two
        rotations at once rename each other's files away (an error that stopped the file log, or a
        backup dropped). Rotations take turns with an ``flock`` on ``<log>.lock``; a process that finds
        the file it has open already rotated (or another rotation under way) rotates nothing and writes
        to the file now at the path. Without ``fcntl`` (Windows) it rotates as ``logging`` does."""
        if fcntl is None:
            self.doRollover()
            return
        fd = os.open(self.baseFilename + ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # never wait: the app's loop writes here
            except BlockingIOError:
                current = None  # another process is rotating: its new file is the one to write to
            else:
                try:
                    current = os.stat(self.baseFilename)
                except FileNotFoundError:
                    current = None
            if current is not None and (current.st_dev, current.st_ino) == self._file_id:
                self.doRollover()  # (the flock ends when fd is closed)
            elif self.stream is not None:
                self.stream.close()
                self.stream = None
        finally:
            os.close(fd)


class ActivityLog:
    """The activity log of this process: a rotated JSON-lines file (or none) and the session's calls.

    ``path`` None keeps the session in memory only (the demo). ``source`` says who is calling (``cli``
    unless the app sets ``app``). ``clock`` gives the entries' times (the services' clock, frozen in
    tests). Safe to call from several threads (the proxy may run in its own). Writing costs a few tens
    of microseconds per call (``tests/bench/test_bench_actlog.py``). A file that cannot be written stops
    the file log for this process; ``problem`` then says why, the session log keeps going.
    """

    def __init__(
        self,
        path: Path | None,
        *,
        source: str = "cli",
        max_bytes: int = MAX_BYTES,
        backups: int = BACKUPS,
        session_size: int = SESSION_CALLS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.source = source
        self.clock = clock
        self.problem: str | None = None
        self._calls: deque[ActivityCall] = deque(maxlen=max(1, session_size))
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._file: PrivateRotatingFile | None = None
        if path is not None:
            self._file = PrivateRotatingFile(path, max_bytes, backups, self._file_failed)

    # -- recording ----------------------------------------------------------------------------------

    def recorder(self, profile: str) -> ActivityRecorder:
        """What an ``ApiClient`` (``activity=``) or a ``LoggedAsyncClient`` records its calls with."""
        return ActivityRecorder(self, profile)

    def record(
        self, entry: ActivityEntry, request: RequestCopy | None = None, *, at: float | None = None
    ) -> None:
        """Append ``entry`` to the file (if any) and to the session's calls."""
        call = ActivityCall(next(self._numbers), self.clock() if at is None else at, entry, request)
        self._calls.append(call)
        handler = self._file
        if handler is not None:
            if handler.stream is None and not self._prepare_folder(handler):
                return
            handler.write_line(_encode(entry).decode("utf-8"))

    def proxy_listener(self, profile: str, *, gateway: str = "") -> Callable[[Any], None]:
        """A callback for ``ProxyServer.subscribe``: one entry per forwarded request (source ``proxy``).

        ``gateway``: the profile's gateway URL (for the entries' host and "copy as curl").

        Reads the proxy's ``RequestEvent`` fields (``method``, ``path``, ``query``, ``status``,
        ``duration_ms``, ``bytes_sent``, ``at``, ``refused``, ``error`` and, when the proxy adds it,
        ``logref``). Requests the proxy refused itself (host, origin, access key, read-only) never reached
        the service and are not logged.
        """

        base = httpx.URL(gateway) if gateway else None
        host = base.netloc.decode("ascii", "replace") if base is not None else ""

        def on_request(event: Any) -> None:
            if getattr(event, "refused", None):
                return
            at = float(getattr(event, "at", 0.0) or self.clock())
            error = getattr(event, "error", None)
            entry = ActivityEntry(
                time=iso_time(at),
                profile=profile,
                source="proxy",
                kind=KIND_API,
                method=str(event.method),
                host=host,
                path=str(event.path),
                query=redact_query(str(getattr(event, "query", "") or "")),
                status=None if error and not getattr(event, "forwarded", True) else int(event.status),
                ms=round(float(event.duration_ms), 1),
                size=int(getattr(event, "bytes_sent", 0) or 0),
                logref=getattr(event, "logref", None),
                error=_clean_error(error) if error else None,
            )
            copy = None
            if base is not None:
                path = base.raw_path.split(b"?")[0].rstrip(b"/") + entry.path.encode()
                copy = RequestCopy(
                    entry.method,
                    base.copy_with(raw_path=path),
                    (("Authorization", "Bearer $TOKEN"),),
                    query=entry.query,
                )
            self.record(entry, copy, at=at)

        return on_request

    # -- reading ------------------------------------------------------------------------------------

    def session(self, limit: int | None = None, *, failed: bool = False) -> list[ActivityCall]:
        """This session's calls, newest first (``failed``: only the failed ones, ``ActivityEntry.failed``:
        no answer, cancelled calls aside, or >= 400)."""
        calls = [c for c in reversed(self._calls) if not failed or c.entry.failed]
        return calls if limit is None else calls[:limit]

    @property
    def count(self) -> int:
        """Calls recorded in this session (also those no longer kept in memory)."""
        return self._calls[-1].number if self._calls else 0

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    # -- internals ----------------------------------------------------------------------------------

    def _prepare_folder(self, handler: PrivateRotatingFile) -> bool:
        with self._lock:
            if self._file is None:
                return False
            try:
                Path(handler.baseFilename).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                self._file_failed(f"{type(exc).__name__}: {exc}")
                return False
            return True

    def _file_failed(self, reason: str) -> None:
        self.problem = f"the activity log {self.path} could not be written ({reason})"
        handler, self._file = self._file, None
        if handler is not None:
            with contextlib.suppress(Exception):
                handler.close()


def _clean_error(text: object) -> str:
    return one_line(scrub(str(text)), MAX_ERROR)


class ActivityRecorder:
    """Records the calls of one client (one profile) into an ``ActivityLog``."""

    __slots__ = ("log", "profile")

    def __init__(self, log: ActivityLog, profile: str) -> None:
        self.log = log
        self.profile = profile

    def answered(self, request: httpx.Request, response: httpx.Response, at: float, seconds: float) -> None:
        """A response arrived and its body was read (or closed)."""
        status = response.status_code
        headers = response.headers
        logref = headers.get(_CORRELATION)
        error = None
        if status >= 400:
            with contextlib.suppress(Exception):  # a body that cannot be read still gets its line
                message, _code, body_logref = parse_error_body(response)
                logref = body_logref or logref
                error = _clean_error(message) if message else None
        size = response.num_bytes_downloaded
        self._record(request, at, seconds, status=status, size=size, logref=logref, error=error)

    def failed(self, request: httpx.Request, error: BaseException, at: float, seconds: float) -> None:
        """No response: the request could not be sent or the answer did not come (or was cancelled)."""
        if isinstance(error, asyncio.CancelledError):
            text = CANCELLED
        else:
            detail = str(error).strip()
            text = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
        self._record(request, at, seconds, status=None, size=0, logref=None, error=_clean_error(text))

    def _record(
        self,
        request: httpx.Request,
        at: float,
        seconds: float,
        *,
        status: int | None,
        size: int,
        logref: str | None,
        error: str | None,
    ) -> None:
        url = request.url
        query = redact_query(url.query.decode("ascii", "replace")) if url.query else ""
        entry = ActivityEntry(
            time=iso_time(at),
            profile=self.profile,
            source=self.log.source,
            kind=request.extensions.get(KIND_EXTENSION, KIND_API),
            method=request.method,
            host=url.netloc.decode("ascii", "replace"),
            path=url.path,
            query=query,
            status=status,
            ms=round(seconds * 1000, 1),
            size=size,
            logref=logref,
            error=error,
        )
        self.log.record(entry, RequestCopy.of(request, query), at=at)


class LoggedAsyncClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` that records every request it sends (``activity``: a recorder, or None).

    Every request goes through ``send`` (``request``, ``get``, ``post``, ``stream``), so this is the one
    place; an answered request is recorded once its body is read (a streamed one when it is closed),
    a request without an answer when its error is raised.
    """

    def __init__(self, *args: Any, activity: ActivityRecorder | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.activity = activity

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        recorder = self.activity
        if recorder is None:
            return await super().send(request, **kwargs)
        at = recorder.log.clock()
        started = time.perf_counter()
        try:
            response = await super().send(request, **kwargs)
        except BaseException as exc:
            if isinstance(exc, httpx.HTTPError | asyncio.CancelledError):
                recorder.failed(request, exc, at, time.perf_counter() - started)
            raise
        if kwargs.get("stream") and not response.is_closed:
            response.stream = _RecordedStream(response, recorder, request, at, started)
        else:
            recorder.answered(request, response, at, time.perf_counter() - started)
        return response


class _RecordedStream(httpx.AsyncByteStream):
    """A streamed response's body: the call is recorded when the body is closed."""

    def __init__(
        self,
        response: httpx.Response,
        recorder: ActivityRecorder,
        request: httpx.Request,
        at: float,
        started: float,
    ) -> None:
        self._inner = response.stream
        self._response = response
        self._recorder = recorder
        self._request = request
        self._at = at
        self._started = started
        self._done = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:  # type: ignore[union-attr]
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()  # type: ignore[union-attr]
        finally:
            if not self._done:
                self._done = True
                seconds = time.perf_counter() - self._started
                self._recorder.answered(self._request, self._response, self._at, seconds)


# -- reading the files (``ihub log``) ----------------------------------------------------------------


def log_files(path: Path) -> list[Path]:
    """The log's files, oldest first: ``path.N`` ... ``path.1``, then ``path`` (those that exist)."""
    numbered: list[tuple[int, Path]] = []
    if path.parent.is_dir():
        for candidate in path.parent.glob(f"{path.name}.*"):
            suffix = candidate.name[len(path.name) + 1 :]
            if suffix.isdigit() and candidate.is_file():
                numbered.append((int(suffix), candidate))
    files = [p for _n, p in sorted(numbered, reverse=True)]
    return [*files, path] if path.is_file() else files


@dataclass
class ReadStats:
    """What ``read_entries`` skipped: lines that are not entries (a torn line after a crash, an edit)."""

    skipped: int = 0


def read_entries(path: Path, stats: ReadStats | None = None) -> Iterator[ActivityEntry]:
    """Every entry of the log at ``path`` and its backups, oldest first; unreadable lines are skipped
    (and counted in ``stats``)."""
    for file in log_files(path):
        try:
            handle = file.open("rb")
        except OSError:
            continue
        with handle:
            for line in handle:
                if not line.strip():
                    continue
                try:
                    yield _decode_entry(line)
                except (msgspec.DecodeError, msgspec.ValidationError):
                    if stats is not None:
                        stats.skipped += 1


def entry_epoch(entry: ActivityEntry) -> float | None:
    """The entry's time as epoch seconds (None if it does not parse)."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(entry.time.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def dumps(entry: ActivityEntry) -> str:
    """The entry's JSON line (as written to the file)."""
    return _encode(entry).decode("utf-8")


def loads(line: str | bytes) -> ActivityEntry:
    """One JSON line back to an entry (``msgspec.DecodeError``/``ValidationError`` if it is not one)."""
    return _decode_entry(line)
