"""One HTTP attempt to an endpoint: to the address the SSRF check approved, bounded in time.

urllib3 rather than requests: requests connects to whatever the name resolves to at connect
time, after our check; here the pool is opened on the checked address (``Target.address``)
while the TLS handshake still presents and verifies the endpoint's host name (SNI and
certificate), and the ``Host`` header carries it too. Redirects are not followed (a 3xx is a
failed attempt: following one would send the body to a URL nobody checked). The whole
exchange up to the response's headers is bounded by ``TIMEOUT`` (section 15: 10 s), and at
most ``MAX_RESPONSE_BYTES`` of the body are read: only the status matters.
"""

from __future__ import annotations

from dataclasses import dataclass

import certifi
import urllib3
from urllib3.exceptions import HTTPError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from shopify_loyalty.services.events.urls import Target

TIMEOUT = urllib3.Timeout(connect=5.0, read=10.0, total=10.0)
MAX_RESPONSE_BYTES = 1024
USER_AGENT = "shopify-loyalty-webhooks/1"


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    # None when delivered; else one of REASONS and a short text for the operator.
    reason: str | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.reason is None


# The failure reasons, the bounded label set of the EVENT_DELIVERY_FAILURES metric.
REASONS = ("status", "redirect", "timeout", "connect", "unsafe_url", "endpoint_disabled")


def send(target: Target, body: bytes, headers: dict[str, str],
         timeout: urllib3.Timeout = TIMEOUT) -> Attempt:
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    address = f"[{target.address}]" if ":" in target.address else target.address
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address, target.port, timeout=timeout, retries=False, maxsize=1,
            server_hostname=target.host, assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED", ca_certs=certifi.where())
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, timeout=timeout,
                                          retries=False, maxsize=1)
    try:
        response = pool.urlopen(
            "POST", target.path, body=body,
            headers={**headers, "Host": host_header, "User-Agent": USER_AGENT},
            redirect=False, retries=False, preload_content=False, assert_same_host=False)
        try:
            response.read(MAX_RESPONSE_BYTES)
        except (HTTPError, OSError):
            pass  # the status is what counts
        finally:
            response.release_conn()
    except (Urllib3Timeout, TimeoutError) as exc:
        return Attempt(None, "timeout", _short(f"timed out: {exc}"))
    except (HTTPError, OSError) as exc:
        return Attempt(None, "connect", _short(f"{type(exc).__name__}: {exc}"))
    finally:
        pool.close()
    status = response.status
    if 200 <= status < 300:
        return Attempt(status, None, None)
    if 300 <= status < 400:
        return Attempt(status, "redirect", f"HTTP {status}: redirects are not followed")
    return Attempt(status, "status", f"HTTP {status}")


def _short(text: str) -> str:
    return text if len(text) <= 255 else text[:252] + "..."
