from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .system_status import model_status, worker_status


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/home.html", {"model": model_status(), "worker": worker_status()})
