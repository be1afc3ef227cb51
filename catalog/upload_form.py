"""The make_dataset options shown beside the upload area, with their defaults."""
from django import forms

from jobs.params import DEFAULTS, RANGES


class UploadParamsForm(forms.Form):
    min_speech = forms.FloatField(initial=DEFAULTS["min_speech"], min_value=RANGES["min_speech"][0], max_value=RANGES["min_speech"][1], label="min_speech (s)")
    max_gap = forms.FloatField(initial=DEFAULTS["max_gap"], min_value=RANGES["max_gap"][0], max_value=RANGES["max_gap"][1], label="max_gap (s)")
    min_clip = forms.FloatField(initial=DEFAULTS["min_clip"], min_value=RANGES["min_clip"][0], max_value=RANGES["min_clip"][1], label="min_clip (s)")
    max_clip = forms.FloatField(initial=DEFAULTS["max_clip"], min_value=RANGES["max_clip"][0], max_value=RANGES["max_clip"][1], label="max_clip (s)")
    vad_mode = forms.TypedChoiceField(initial=DEFAULTS["vad_mode"], choices=[(i, i) for i in range(4)], coerce=int)
    frame_ms = forms.TypedChoiceField(initial=DEFAULTS["frame_ms"], choices=[(i, i) for i in (10, 20, 30)], coerce=int)
    smooth = forms.ChoiceField(initial=DEFAULTS["smooth"], choices=[(s, s) for s in ("none", "ema", "oneeuro")])
    f0 = forms.ChoiceField(initial=DEFAULTS["f0"], choices=[("dio", "dio"), ("harvest", "harvest (slow)")])
    max_interp_gap = forms.FloatField(initial=DEFAULTS["max_interp_gap"], min_value=RANGES["max_interp_gap"][0], max_value=RANGES["max_interp_gap"][1], label="max_interp_gap (s)")
    pad_short_audio = forms.ChoiceField(
        initial=DEFAULTS["pad_short_audio"], label="audio ends early",
        choices=[("no", "refuse the recording"), ("yes", "keep it: missing audio is silence, no clip from it")])
