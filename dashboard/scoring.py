"""Per-dataset score weights: see them, change them (the dataset is re-scored at once), or pick a preset."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.models import Role
from catalog import access
from catalog.rescore import rescore
from pipeline.quality.scoring import (
    COMPONENTS,
    DEFAULT_WEIGHTS,
    MAX_WEIGHT,
    PRESETS,
    validate_weights,
)

COMPONENT_HELP = {
    "lip_sync": "audio belongs to the mouth on screen (verdict and confidence)",
    "valid_rate": "share of frames with a usable face after QC",
    "tracking": "low tracking jitter",
    "face_speaking": "the mouth moves while the audio has speech",
    "range_validity": "coefficients inside [0, 1], no glitches",
    "face_size": "distance between the eyes, in source pixels",
    "sharpness": "focus / motion blur of the face",
    "single_face": "no second face in the picture",
    "frontal": "head yaw and pitch within a frontal range",
    "exposure": "face neither dark nor over-exposed",
    "smoothness": "the seed's smoothness (rewards faces that do not move: for comparison only)",
}


class WeightsForm(forms.Form):
    def __init__(self, *args, initial_weights: dict[str, float], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in COMPONENTS:
            self.fields[name] = forms.FloatField(min_value=0, max_value=MAX_WEIGHT, required=False, initial=initial_weights.get(name, 0),
                                                 label=name, help_text=COMPONENT_HELP.get(name, ""))

    def weights(self) -> dict[str, float]:
        return validate_weights({k: v for k, v in self.cleaned_data.items() if v})


def dataset_scoring(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = access.get_dataset(request.user, pk)
    current = dataset.score_weights or DEFAULT_WEIGHTS
    form = WeightsForm(initial_weights=current)
    if request.method == "POST":
        access.require_role(request.user, dataset.team, Role.MEMBER)
        if request.POST.get("recompute"):
            from jobs.messages import enqueue_recompute_quality

            enqueue_recompute_quality(dataset.pk)
            messages.success(request, "Recomputing the QC of every clip in the background; each video's page shows "
                                      "its progress.")
            return redirect("dataset_scoring", pk=pk)
        preset = request.POST.get("preset")
        if preset:
            if preset not in PRESETS:
                messages.error(request, f"unknown preset {preset!r}")
                return redirect("dataset_scoring", pk=pk)
            weights = dict(PRESETS[preset])
        else:
            form = WeightsForm(request.POST, initial_weights=current)
            weights = None
            if form.is_valid():
                try:
                    weights = form.weights()
                except ValueError as exc:
                    form.add_error(None, str(exc))
            if weights is None:
                return render(request, "catalog/dataset_scoring.html", _context(dataset, form, current), status=400)
        with transaction.atomic():  # the weights and the scores they give change together, or not at all
            dataset.score_weights = {} if weights == DEFAULT_WEIGHTS else weights
            dataset.save(update_fields=["score_weights"])
            count = rescore(dataset, weights)
        messages.success(request, f"Re-scored {count} clips with the new weights.")
        return redirect("dataset_scoring", pk=pk)
    return render(request, "catalog/dataset_scoring.html", _context(dataset, form, current))


def _context(dataset, form, current) -> dict:
    preset = next((name for name, weights in PRESETS.items() if weights == current), None)
    return {"dataset": dataset, "form": form, "presets": PRESETS, "current_preset": preset,
            "total": sum(current.values())}
