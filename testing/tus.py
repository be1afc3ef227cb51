"""A tus client in the Django test client: create, patch, upload all at once."""
from __future__ import annotations

import base64

from django.test import Client
from django.urls import reverse

from testing.support import CATALOG_PASSWORD as PASSWORD
from testing.support import sign_in


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def client_for(name: str) -> Client:
    client = Client()
    assert sign_in(client, name, PASSWORD)
    return client


def create(client, dataset, length: int, filename: str = "talk.mp4", **extra_meta):
    meta = ",".join([f"filename {b64(filename)}"] + [f"{k} {b64(str(v))}" for k, v in extra_meta.items()])
    return client.post(reverse("create_upload", args=[dataset.pk]), HTTP_TUS_RESUMABLE="1.0.0",
                       HTTP_UPLOAD_LENGTH=str(length), HTTP_UPLOAD_METADATA=meta)


def patch(client, url: str, offset: int, data: bytes):
    return client.generic("PATCH", url, data, content_type="application/offset+octet-stream",
                          HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_OFFSET=str(offset))


def upload_all(client, dataset, data: bytes, filename: str, **meta):
    response = create(client, dataset, len(data), filename, **meta)
    assert response.status_code == 201, response.content
    return patch(client, response["Location"], 0, data)
