"""Batch curation: reject, accept, tag or untag every clip of a filtered view, once the count is confirmed."""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Role
from catalog import access
from catalog.filters import ClipFilter
from catalog.models import Clip, Tag

ACTIONS = ("reject", "accept", "tag", "untag")


@require_POST
def batch_update(request: HttpRequest, pk: int) -> HttpResponse:
    """The filter travels in the form; ``expected`` is the count the user confirmed: if the view holds a
    different number of clips now (someone else changed them meanwhile), nothing is done."""
    dataset = access.get_dataset(request.user, pk)
    access.require_role(request.user, dataset.team, Role.MEMBER)
    form = ClipFilter.of(dataset, request.POST)
    query = QueryDict(request.POST.get("query", "")).urlencode()
    back = redirect(reverse("dataset_detail", args=[dataset.pk]) + (f"?{query}" if query else ""))
    action, name = request.POST.get("batch_action"), request.POST.get("batch_tag", "").strip()[:60]
    if form.problems() or action not in ACTIONS or (action in ("tag", "untag") and not name):
        messages.error(request, f"Nothing changed: {form.problems() or 'choose an action (and a tag name)'}.")
        return back
    ids = list(form.restrict(dataset.clips.all()).values_list("pk", flat=True))
    try:
        expected = int(request.POST.get("expected", ""))
    except ValueError:
        expected = -1
    if expected != len(ids):
        messages.error(request, f"Nothing changed: this view now holds {len(ids)} clips, not the {expected} "
                                "you confirmed; look again and retry.")
        return back
    if action in ("reject", "accept"):
        changed = Clip.objects.filter(pk__in=ids).exclude(rejected=action == "reject").update(
            rejected=action == "reject")
    elif action == "tag":
        tag, _ = Tag.objects.get_or_create(dataset=dataset, name=name)
        through = Clip.tags.through
        have = set(through.objects.filter(tag=tag, clip_id__in=ids).values_list("clip_id", flat=True))
        through.objects.bulk_create([through(clip_id=i, tag_id=tag.pk) for i in ids if i not in have],
                                    batch_size=1000)
        changed = len(ids) - len(have)
    else:
        changed = Clip.tags.through.objects.filter(tag__dataset=dataset, tag__name=name, clip_id__in=ids).delete()[0]
    verb = {"reject": "rejected", "accept": "accepted again", "tag": f"tagged \u201c{name}\u201d",
            "untag": f"untagged \u201c{name}\u201d"}[action]
    messages.success(request, f"{changed} of {len(ids)} clip{'s' if len(ids) != 1 else ''} {verb}.")
    return back
