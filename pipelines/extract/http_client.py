"""GET JSON from a sector API: the bearer token, bounded retries with backoff (or the
server's ``Retry-After``), and ``HttpApiError`` naming the system, the URL and the page.

URLs in messages and logs go through ``public_url``, which masks passwords and secret-looking
query parameters.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

if TYPE_CHECKING:
    from pipelines.extract.http_api_settings import ApiSettings

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
SECRET_PARAMETERS = frozenset(
    {"token", "access_token", "api_key", "apikey", "key", "password", "secret", "signature"}
)
USER_AGENT = "Maglumat/0.1 (+data warehouse extract)"


class HttpApiError(RuntimeError):
    """A collection could not be read; the message names the system, the URL and the page."""

    def __init__(self, system: str, url: str, page: int, problem: str) -> None:
        self.system = system
        self.url = url
        self.page = page
        self.problem = problem
        super().__init__(f"{system}: {problem} (GET {url}, page {page})")


def public_url(url: str) -> str:
    """``url`` fit for messages and logs: no password, no secret-looking query parameters."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@")
    query = [
        (name, "***" if name.lower() in SECRET_PARAMETERS else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return parts._replace(netloc=netloc, query=urlencode(query, safe="*:")).geturl()


def _http_date(text: str | None) -> dt.datetime | None:
    try:
        moment = email.utils.parsedate_to_datetime(text or "")
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _retry_after_seconds(header: str | None, answered: str | None) -> float | None:
    """``Retry-After`` as seconds to wait: a number of seconds, or an HTTP date counted from
    the answer's own ``Date`` (the server's clock against itself; None without one)."""
    if not header:
        return None
    text = header.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    moment, sent = _http_date(text), _http_date(answered)
    if moment is None or sent is None:
        return None
    return max(0.0, (moment - sent).total_seconds())


def _is_timeout(error: BaseException) -> bool:
    return isinstance(error, TimeoutError) or "timed out" in str(error)


class ApiClient:
    """GET with a bearer token and bounded retries; one instance per extract."""

    def __init__(self, system: str, base_url: str, token: str | None, settings: ApiSettings):
        self.system = system
        self.base_url = base_url.rstrip("/") + "/"
        self.token = token
        self.settings = settings

    def url(self, reference: str, page: int) -> str:
        """An absolute URL for an endpoint path or a next link, on the API's own origin."""
        url = urljoin(self.base_url, reference)
        origin, base = urlsplit(url), urlsplit(self.base_url)
        if (origin.scheme, origin.netloc) != (base.scheme, base.netloc):
            # The token must never travel to another host, whatever a response says.
            raise HttpApiError(
                self.system,
                public_url(url),
                page,
                f"refusing to follow a link away from {public_url(self.base_url)}",
            )
        return url

    def _wait(self, attempt: int, retry_after: float | None) -> float:
        settings = self.settings
        if retry_after is not None:
            return min(retry_after, settings.max_backoff_seconds)
        return min(settings.backoff_seconds * 2 ** (attempt - 1), settings.max_backoff_seconds)

    def get_json(self, url: str, page: int) -> Any:
        """The decoded JSON answer of ``url``; retried on 429, 5xx, timeouts and dropped
        connections; every other failure raises ``HttpApiError`` at once."""
        settings = self.settings
        shown = public_url(url)
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            request = urllib.request.Request(url, headers=headers, method="GET")
            try:
                with urllib.request.urlopen(request, timeout=settings.timeout_seconds) as answer:
                    body = answer.read()
            except urllib.error.HTTPError as error:
                status = error.code
                detail = error.read(300).decode("utf-8", "replace").strip()
                retry_after = _retry_after_seconds(
                    error.headers.get("Retry-After"), error.headers.get("Date")
                )
                error.close()
                if status in (401, 403):
                    hint = (
                        f"check the token in {settings.token_env}"
                        if settings.token_env
                        else "the API wants a token: set the system's token_env option"
                    )
                    raise HttpApiError(
                        self.system, shown, page, f"access refused (HTTP {status}): {hint}"
                    ) from None
                if status not in RETRY_STATUSES:
                    raise HttpApiError(
                        self.system, shown, page, f"HTTP {status}: {detail[:200]}"
                    ) from None
                reason = f"HTTP {status}"
            except urllib.error.URLError as error:
                if isinstance(error.reason, ConnectionRefusedError):
                    raise HttpApiError(
                        self.system, shown, page, "connection refused: is the API up at this URL?"
                    ) from None
                if not _is_timeout(error.reason) and not isinstance(
                    error.reason, ConnectionResetError
                ):
                    raise HttpApiError(
                        self.system, shown, page, f"cannot connect: {error.reason}"
                    ) from None
                reason = f"no answer within {settings.timeout_seconds:g} s"
                if isinstance(error.reason, ConnectionResetError):
                    reason = "connection reset"
            except TimeoutError:
                reason = f"no answer within {settings.timeout_seconds:g} s"
            except (http.client.RemoteDisconnected, http.client.IncompleteRead, ConnectionError):
                reason = "connection dropped before the answer was complete"
            else:
                try:
                    return json.loads(body)
                except (UnicodeDecodeError, json.JSONDecodeError) as error:
                    raise HttpApiError(
                        self.system, shown, page, f"the answer is not valid JSON ({error})"
                    ) from None
            if attempt >= settings.max_attempts:
                raise HttpApiError(
                    self.system, shown, page, f"gave up after {attempt} attempts, last: {reason}"
                )
            wait = self._wait(attempt, retry_after)
            logger.warning(
                "%s: %s on page %d of GET %s; attempt %d of %d in %.2f s",
                self.system,
                reason,
                page,
                shown,
                attempt + 1,
                settings.max_attempts,
                wait,
            )
            time.sleep(wait)
