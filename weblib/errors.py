"""The page an unexpected error leaves the user on; a database that is not answering gets 503, not 500.

While PostgreSQL restarts (or SQLite stays locked past its timeout) every request fails on its first query.
That is not a bug to report but a wait: the page says so and asks the client to retry (Retry-After), and
tus clients get it as JSON.  The page is rendered without a request context, so it needs no database.
"""
from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader

RETRY_AFTER_S = 30


def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]
    if isinstance(exc, TimeoutError):  # the client sent its request body too slowly (dataset_site.web_worker)
        status, title = 408, "The request came too slowly"
        text = "The server stopped waiting for the rest of the request. Try again on a faster connection."
    elif isinstance(exc, (OperationalError, InterfaceError)):
        status, title = 503, "The database is not answering"
        text = ("The server cannot reach its database right now (it may be restarting). Nothing already saved "
                "is lost, and an upload resumes where it stopped. Try again in a minute.")
    else:
        status, title = 500, "Something went wrong on the server"
        text = "The error was logged for the administrators. Try again, or tell them what you were doing."
    if request.headers.get("Tus-Resumable") or "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse({"error": text}, status=status)
    else:
        html = loader.get_template("errors/server_error.html").render({"title": title, "text": text})
        response = HttpResponse(html, status=status)
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_S)
    return response


def wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return bool(request.headers.get("Tus-Resumable")) or ("application/json" in accept and "text/html" not in accept)


def bad_request(request: HttpRequest, title: str, reason: str, links: list[tuple[str, str]] = (),
                element_id: str = "bad-request") -> HttpResponse:
    """The one reply to input the server will not act on: 400 with the reason, as JSON for scripts that ask
    for it (and tus clients), else as a page with links onward.  Never "every clip" for a filter not understood."""
    if wants_json(request):
        return JsonResponse({"error": f"{title}: {reason}"}, status=400)
    return render(request, "errors/bad_request.html", {"title": title, "reason": reason, "links": list(links),
                                                       "element_id": element_id}, status=400)
