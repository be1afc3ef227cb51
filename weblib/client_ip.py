"""The address a request came from, for log-in throttling.

Served directly, that is the socket's peer.  Behind the TLS reverse proxy of
DJANGO_HTTPS, every request comes from the proxy, so the client is the address
the proxy appended last to X-Forwarded-For (earlier entries are whatever the
client chose to send, and are not trusted).
"""
from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    if getattr(settings, "HTTPS", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR")
