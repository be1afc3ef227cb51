"""The make_dataset options shown beside the upload area (and on a video's reprocess form), explained."""
from django import forms

from jobs.params import DEFAULTS, RANGES


def seconds(name: str, label: str, help_text: str) -> forms.FloatField:
    low, high = RANGES[name]
    return forms.FloatField(initial=DEFAULTS[name], min_value=low, max_value=high, label=f"{label} (s)",
                            help_text=f"{help_text} ({low:g}-{high:g} s)")


class UploadParamsForm(forms.Form):
    min_speech = seconds("min_speech", "min_speech",
                         "speech shorter than this is treated as noise (a cough, a click)")
    max_gap = seconds("max_gap", "max_gap", "pauses shorter than this stay inside one clip")
    min_clip = seconds("min_clip", "min_clip", "speech runs shorter than this make no clip")
    max_clip = seconds("max_clip", "max_clip", "longer speech is split into equal clips no longer than this")
    vad_mode = forms.TypedChoiceField(initial=DEFAULTS["vad_mode"], choices=[(i, i) for i in range(4)], coerce=int,
                                      help_text="voice detector strictness: 0 keeps the most audio as speech, "
                                                "3 the least (noisy rooms)")
    frame_ms = forms.TypedChoiceField(initial=DEFAULTS["frame_ms"], choices=[(i, i) for i in (10, 20, 30)],
                                      coerce=int, help_text="voice detector step in ms: 10 finds onsets more "
                                                            "precisely, 30 is steadier")
    smooth = forms.ChoiceField(initial=DEFAULTS["smooth"], choices=[(s, s) for s in ("none", "ema", "oneeuro")],
                               help_text="filter on the blendshape curves: none keeps MediaPipe's values; oneeuro "
                                         "calms jitter while keeping fast moves")
    f0 = forms.ChoiceField(initial=DEFAULTS["f0"], choices=[("dio", "dio"), ("harvest", "harvest (slow)")],
                           help_text="pitch tracker (WORLD): dio is fast; harvest is more robust and about 4x "
                                     "realtime")
    max_interp_gap = seconds("max_interp_gap", "max_interp_gap",
                             "face-less gaps up to this long are interpolated; longer ones are masked")
    pad_short_audio = forms.ChoiceField(
        initial=DEFAULTS["pad_short_audio"], label="audio ends early",
        choices=[("no", "refuse the recording"), ("yes", "keep it: missing audio is silence, no clip from it")],
        help_text="what to do when the audio track stops before the video")
