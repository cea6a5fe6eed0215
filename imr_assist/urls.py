"""URLs as they may be stored or shown: without credentials.

Endpoint URLs can carry secrets in two places: the userinfo
(``https://user:key@host/v1``) and the query string (``?api-key=...``, as Azure
OpenAI and some gateways take it). ``redact_url`` drops both, and the fragment,
wherever a URL is written to the catalog (the embedder's name), an error message,
a log line or ``--json`` output. The request itself still goes to the URL as given.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

#: A URL inside free text (an error from a client library, say): a scheme, then
#: anything up to whitespace or a closing quote or bracket.
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>()]+")


def redact_url(url: str) -> str:
    """``url`` without userinfo, query string, fragment or trailing slash.

    IPv6 hosts keep their brackets (``http://[::1]:8080/v1``). A string that does
    not parse as a URL is not shown at all: it might be a key pasted in the wrong place.
    """
    text = url.strip()
    try:
        parts = urlsplit(text if "://" in text else f"//{text}")
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    if ":" in host:
        host = f"[{host}]"  # hostname drops the brackets of an IPv6 literal
    if port is not None:
        host = f"{host}:{port}"
    path = parts.path.rstrip("/")
    if "://" not in text:
        return f"{host}{path}"
    return urlunsplit((parts.scheme, host, path, "", ""))


def redact_urls_in(text: str) -> str:
    """``text`` with every URL in it passed through ``redact_url``."""
    return _URL_IN_TEXT.sub(lambda m: redact_url(m[0]), text)
