"""API tokens: read-only access for scripts, e.g. downloading a filtered zip with curl."""
from __future__ import annotations

import hashlib
import secrets

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from .models import ApiToken

SAFE_METHODS = ("GET", "HEAD")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue(user, name: str) -> str:
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name[:100] or "token", key_hash=hash_key(key), prefix=key[:8])
    return key


class TokenAuthMiddleware:
    """Authenticate GET/HEAD requests carrying ``Authorization: Token KEY`` (after the session middleware).

    A token grants what its user may read, never a write; a wrong token gets 401 rather than the log-in page.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        if header.startswith("Token "):
            if request.method not in SAFE_METHODS:
                return JsonResponse({"error": "tokens are read-only; use the web page to change things"}, status=403)
            token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(header[6:].strip())).first()
            if token is None or not token.user.is_active:
                return JsonResponse({"error": "invalid API token"}, status=401)
            ApiToken.objects.filter(pk=token.pk).update(last_used=timezone.now())
            request.user = token.user
        return self.get_response(request)


def token_list(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/tokens.html", {"tokens": request.user.api_tokens.order_by("-created")})


@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    key = issue(request.user, request.POST.get("name", "").strip())
    messages.success(request, f"New token (shown once, copy it now): {key}")
    return redirect("token_list")


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    request.user.api_tokens.filter(pk=pk).delete()
    return redirect("token_list")
