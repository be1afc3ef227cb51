"""API tokens: shown once and never in a cookie, kept off the admin, and an upload scope for tus clients."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken
from accounts.tokens import issue
from catalog.models import Video
from testing.tus import b64, client_for


def test_a_new_token_is_shown_once_in_the_page_and_never_in_a_cookie(upload_lab):
    ana = client_for("ana")
    response = ana.post(reverse("token_create"), {"name": "laptop", "scope": "upload"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    page = response.content.decode()
    key = page.split('id="new-token"')[1].split("<code>")[1].split("</code>")[0]
    assert len(key) > 30 and ApiToken.objects.get(prefix=key[:8]).scope == "upload"
    assert all(key not in morsel.value for morsel in response.cookies.values())
    assert all(key not in morsel.value for morsel in ana.cookies.values())
    assert key not in ana.get(reverse("token_list")).content.decode()  # once


def test_a_staff_users_token_does_not_open_the_admin(upload_lab):
    staff = get_user_model().objects.create_user("it", password="a-long-test-password", is_staff=True,
                                                 is_superuser=True)
    key = issue(staff, "script")
    script = Client()
    for url in ("/admin/", "/admin/auth/user/", reverse("token_list"), reverse("team_detail", args=[1])):
        response = script.get(url, HTTP_AUTHORIZATION=f"Token {key}")
        assert response.status_code == 403, url
    assert script.get(reverse("home"), HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


def tus(client: Client, method: str, url: str, key: str, body: bytes = b"", **headers):
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return client.generic(method, url, body, content_type="application/offset+octet-stream",
                          HTTP_AUTHORIZATION=f"Token {key}", HTTP_TUS_RESUMABLE="1.0.0", **extra)


def test_an_upload_token_uploads_with_plain_tus_requests_and_a_read_token_cannot(upload_lab, media):
    data = media("retalk_face1.mp4").read_bytes()
    create_url = reverse("create_upload", args=[upload_lab["dataset"].pk])
    meta = f"filename {b64('face1.mp4')},min_clip {b64('2')},max_gap {b64('1.5')}"
    script = Client(enforce_csrf_checks=True)  # no session, no CSRF cookie: what a script has

    reader = issue(upload_lab["ana"], "downloads")
    refused = tus(script, "POST", create_url, reader, **{"Upload-Length": str(len(data)), "Upload-Metadata": meta})
    assert refused.status_code == 403 and "upload scope" in refused.json()["error"]

    uploader = issue(upload_lab["ana"], "upload_lab script", ApiToken.Scope.UPLOAD)
    created = tus(script, "POST", create_url, uploader, **{"Upload-Length": str(len(data)), "Upload-Metadata": meta})
    assert created.status_code == 201, created.content
    url = created["Location"]
    assert tus(script, "PATCH", url, uploader, data[:50_000], **{"Upload-Offset": "0"}).status_code == 204
    assert tus(script, "HEAD", url, uploader)["Upload-Offset"] == "50000"
    done = tus(script, "PATCH", url, uploader, data[50_000:], **{"Upload-Offset": "50000"})
    assert done.status_code == 204, done.content
    video = Video.objects.get()
    assert video.source_name == "face1.mp4" and video.params == {"min_clip": 2.0, "max_gap": 1.5}
    # an upload token still cannot change anything else
    assert tus(script, "POST", reverse("video_cancel", args=[video.pk]), uploader).status_code == 403


def test_a_viewers_upload_token_still_cannot_upload(upload_lab):
    key = issue(upload_lab["vic"], "viewer script", ApiToken.Scope.UPLOAD)
    response = tus(Client(), "POST", reverse("create_upload", args=[upload_lab["dataset"].pk]), key,
                   **{"Upload-Length": "10", "Upload-Metadata": f"filename {b64('a.mp4')}"})
    assert response.status_code == 403
