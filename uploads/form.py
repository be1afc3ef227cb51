"""The build options shown beside the upload area (and on a video's reprocess form), generated from
pipeline.dataset.options so the form, the tus metadata and make_dataset can never disagree."""
from django import forms

from pipeline.dataset.options import STORED, Option


def form_field(option: Option) -> forms.Field:
    label = option.label or (f"{option.name} ({option.unit})" if option.unit else option.name)
    if option.kind is bool:
        return forms.ChoiceField(initial=option.stored(option.default), label=label, help_text=option.help,
                                 choices=[(option.stored(v), option.labels.get(v, option.stored(v))) for v in (False, True)])
    if option.choices:
        field = forms.TypedChoiceField if option.kind is int else forms.ChoiceField
        extra = {"coerce": int} if option.kind is int else {}
        return field(initial=option.default, label=label, help_text=option.help,
                     choices=[(v, option.labels.get(v, v)) for v in option.choices], **extra)
    help_text = option.help + (f" ({option.low:g}-{option.high:g} {option.unit})".rstrip() if option.low is not None else "")
    if option.kind is int:
        return forms.IntegerField(initial=option.default, min_value=option.low, max_value=option.high, label=label,
                                  help_text=help_text)
    return forms.FloatField(initial=option.default, min_value=option.low, max_value=option.high, label=label,
                            help_text=help_text)


UploadParamsForm = type("UploadParamsForm", (forms.Form,), {o.name: form_field(o) for o in STORED})
UploadParamsForm.__doc__ = "One field per stored build option (pipeline.dataset.options.STORED), in the schema's order."
