"""HTTP fetching for live feeds: timeouts, a response size limit, retries with backoff and jitter.

Files and folders go through the same parsers as URLs: :func:`fetch_source` reads ``file:``
paths and plain paths from disk with the same size limit.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

from mobility.errors import FeedError, FeedProblem

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
USER_AGENT = "knoten-live/0.1"


class FetchError(FeedError):
    """A feed could not be fetched (connection, timeout, HTTP status, size limit)."""

    def __init__(self, url: str, message: str, *, transient: bool) -> None:
        self.url = url
        self.transient = transient
        super().__init__(f"{url}: {message}", [FeedProblem(url, "/", message)])


@dataclass(frozen=True)
class HttpPolicy:
    """How one feed is fetched."""

    timeout_s: float = 10.0
    max_bytes: int = DEFAULT_MAX_BYTES
    retries: int = 2
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    jitter: float = 0.25  # +/- this fraction of each wait


def backoff_delay_s(attempt: int, policy: HttpPolicy, rng: random.Random | None = None) -> float:
    """Wait before retry ``attempt`` (0-based): exponential, capped, with +/- jitter."""
    base = min(policy.max_backoff_s, policy.backoff_s * (2**attempt))
    spread = (rng or random).uniform(-policy.jitter, policy.jitter)
    return max(0.0, base * (1.0 + spread))


class HttpClient:
    """A small GET client over one ``requests`` session (connection reuse)."""

    def __init__(
        self,
        policy: HttpPolicy | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy or HttpPolicy()
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers.update(headers or {})
        self.sleep = sleep

    def get_once(self, url: str, headers: Mapping[str, str] | None = None) -> requests.Response:
        """One GET with the policy's timeout; the body is read up to the size limit."""
        p = self.policy
        try:
            resp = self.session.get(url, timeout=p.timeout_s, stream=True, headers=dict(headers or {}))
        except requests.Timeout as exc:
            raise FetchError(url, f"timed out after {p.timeout_s:g} s", transient=True) from exc
        except requests.RequestException as exc:
            raise FetchError(url, f"cannot connect ({type(exc).__name__})", transient=True) from exc
        try:
            if resp.status_code >= 400:
                raise FetchError(
                    url,
                    f"HTTP {resp.status_code}",
                    transient=resp.status_code >= 500 or resp.status_code == 429,
                )
            declared = resp.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > p.max_bytes:
                raise FetchError(
                    url,
                    f"response of {int(declared)} bytes exceeds the limit of {p.max_bytes}",
                    transient=False,
                )
            chunks: list[bytes] = []
            size = 0
            deadline = time.monotonic() + p.timeout_s
            for chunk in resp.iter_content(chunk_size=65536):
                size += len(chunk)
                if size > p.max_bytes:
                    raise FetchError(
                        url, f"response exceeds the limit of {p.max_bytes} bytes", transient=False
                    )
                if time.monotonic() > deadline:
                    raise FetchError(url, f"body not complete after {p.timeout_s:g} s", transient=True)
                chunks.append(chunk)
        except requests.RequestException as exc:
            raise FetchError(url, f"read failed ({type(exc).__name__})", transient=True) from exc
        finally:
            resp.close()
        resp._content = b"".join(chunks)  # the body, read under the limit
        return resp

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> requests.Response:
        """GET with retries of transient failures (exponential backoff with jitter)."""
        attempt = 0
        while True:
            try:
                return self.get_once(url, headers)
            except FetchError as exc:
                if not exc.transient or attempt >= self.policy.retries:
                    raise
                wait = backoff_delay_s(attempt, self.policy)
                logger.info("%s; retry %d in %.2f s", exc, attempt + 1, wait)
                self.sleep(wait)
                attempt += 1

    def fetch(self, url: str, *, allow_local: bool = True) -> bytes:
        """The body of ``url`` (or of a local path / ``file:`` URL) as bytes.

        ``allow_local=False`` refuses anything but http(s): a remote discovery file must not make
        the poller read local files.
        """
        if not url.startswith(("http://", "https://")):
            if not allow_local:
                raise FetchError(url, "only http(s) URLs may be listed by a remote feed", transient=False)
            return read_local(url, self.policy.max_bytes)
        return self.get(url).content

    def remote_fetcher(self, discovery_url: str) -> Callable[[str], bytes]:
        """A fetch function for the files a discovery file lists: local files only when the
        discovery file itself is local."""
        local = not discovery_url.startswith(("http://", "https://"))

        def fetch(url: str) -> bytes:
            return self.fetch(url, allow_local=local or url == discovery_url)

        return fetch

    def close(self) -> None:
        """Close the session."""
        self.session.close()


def read_local(source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """A local file given as a path or ``file:`` URL, with the same size limit as HTTP."""
    path = Path(source[5:].lstrip("/") if source.startswith("file://") else source.removeprefix("file:"))
    if source.startswith("file:///"):
        path = Path("/" + source[8:])
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FetchError(source, f"cannot read ({exc.strerror})", transient=False) from exc
    if size > max_bytes:
        raise FetchError(source, f"file of {size} bytes exceeds the limit of {max_bytes}", transient=False)
    return path.read_bytes()
