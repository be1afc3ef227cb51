"""API tokens for scripts: a filtered download with curl, or uploads with any tus client.

A token is not a session: it works only on the URLs a script needs (datasets,
clips, downloads, reports, job status and, with the upload scope, the tus
endpoints), never on the Django admin, account or team pages, and never to
change anything else.  Its plaintext is shown once, in the page that created
it, and stored only as a SHA-256 hash.
"""
from __future__ import annotations

import hashlib
import secrets

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.models import ApiToken

SAFE_METHODS = ("GET", "HEAD")
READ_VIEWS = {"home", "dataset_detail", "dataset_video_status", "selection_detail", "selection_download", "selection_training_download", "dataset_download", "training_download", "baseline_model", "dataset_report", "video_report", "clip_detail",
              "clip_curves", "clip_thumbnail", "clip_file", "video_detail", "video_status"}
UPLOAD_VIEWS = {"create_upload": ("POST", "OPTIONS"), "upload_resource": ("HEAD", "PATCH", "DELETE"),
                "upload_keep": ("POST",)}


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue(user, name: str, scope: str = ApiToken.Scope.READ) -> str:
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name[:100] or "token", key_hash=hash_key(key), prefix=key[:8],
                            scope=scope)
    return key


def refusal(request: HttpRequest, token: ApiToken) -> JsonResponse | None:
    """Why this token may not make this request (None: it may)."""
    try:
        view = resolve(request.path_info).url_name
    except Resolver404:
        view = None
    if view in UPLOAD_VIEWS:
        if token.scope != ApiToken.Scope.UPLOAD:
            return JsonResponse({"error": "this token cannot upload: create one with the upload scope"}, status=403)
        if request.method not in UPLOAD_VIEWS[view]:
            return JsonResponse({"error": f"{request.method} is not allowed here"}, status=405)
        return None
    if view not in READ_VIEWS:
        return JsonResponse({"error": "API tokens work on dataset, clip, download, report and upload URLs only"},
                            status=403)
    if request.method not in SAFE_METHODS:
        return JsonResponse({"error": "tokens are read-only here; use the web page to change things"}, status=403)
    return None


class TokenAuthMiddleware:
    """Authenticate requests carrying ``Authorization: Token KEY`` (after the session middleware).

    A token grants what its user may read on the script URLs (and upload, with the upload scope);
    a wrong token gets 401 rather than the log-in page.  Token requests need no CSRF token: a browser
    never adds this header by itself, so another site cannot forge one.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        if header.startswith("Token "):
            token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(header[6:].strip())).first()
            if token is None or not token.user.is_active:
                return JsonResponse({"error": "invalid API token"}, status=401)
            refused = refusal(request, token)
            if refused:
                return refused
            ApiToken.objects.filter(pk=token.pk).update(last_used=timezone.now())
            request.user = token.user
            request._dont_enforce_csrf_checks = True
        return self.get_response(request)


def token_list(request: HttpRequest, new_key: str = "") -> HttpResponse:
    return render(request, "catalog/tokens.html", {"tokens": request.user.api_tokens.order_by("-created"),
                                                   "new_key": new_key, "scopes": ApiToken.Scope.choices})


@never_cache
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    """The new key is in this one response's page only: never in a cookie, a message or a redirect."""
    scope = request.POST.get("scope", ApiToken.Scope.READ)
    if scope not in ApiToken.Scope.values:
        messages.error(request, "Unknown token scope.")
        return redirect("token_list")
    key = issue(request.user, request.POST.get("name", "").strip(), scope)
    return token_list(request, new_key=key)


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    request.user.api_tokens.filter(pk=pk).delete()
    return redirect("token_list")
