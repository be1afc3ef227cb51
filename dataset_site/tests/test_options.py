"""Issue #23: the build options are declared once (pipeline/dataset/options.py) and every surface follows it."""
from __future__ import annotations

import argparse
import re

import pytest

from pipeline.dataset import options
from testing.support import REPO


def test_the_readme_table_is_the_schema():
    text = (REPO / "README.md").read_text()
    found = re.search(r"<!-- options:begin -->\n(.*?)<!-- options:end -->", text, re.S)
    assert found, "the README lost its options table markers"
    assert found.group(1) == options.markdown_table(), "README options table differs: regenerate it from the schema"


def command_parser() -> argparse.ArgumentParser:
    from jobs.management.commands.make_dataset import Command

    return Command().create_parser("manage.py", "make_dataset")


def test_make_dataset_takes_every_build_option_with_the_schema_default():
    parsed = vars(command_parser().parse_args(["talk.mp4", "-o", "out"]))
    for option in options.BUILD:
        assert parsed[option.name] == option.default, option.name
    assert "duplicate" not in parsed  # an upload's choice, not a build option


def test_the_upload_form_has_every_stored_option_with_its_range():
    from uploads.form import UploadParamsForm

    form = UploadParamsForm()
    assert list(form.fields) == [o.name for o in options.STORED]
    for option in options.STORED:
        field = form.fields[option.name]
        assert field.initial == option.stored(option.default)
        if option.low is not None:
            assert (field.min_value, field.max_value) == (option.low, option.high)


@pytest.mark.parametrize("option", [o for o in options.OPTIONS if o.low is not None], ids=lambda o: o.name)
def test_every_surface_refuses_a_value_below_the_range_and_takes_the_default(option):
    """The tus parser, the forms and the command line refuse the same values."""
    from uploads.form import UploadParamsForm
    from uploads.tus import parse_params

    too_low = option.low - 1
    if option in options.UPLOADED:
        with pytest.raises(ValueError, match=option.name):
            parse_params({option.name: str(too_low)})
        assert parse_params({option.name: str(option.default)}) == {option.name: option.default}
    if option in options.STORED:
        data = {o.name: o.stored(o.default) for o in options.STORED}
        assert UploadParamsForm({**data, option.name: too_low}).is_valid() is False
        assert UploadParamsForm(data).is_valid()
    if option in options.BUILD:
        parsed = vars(command_parser().parse_args(["talk.mp4", "-o", "out", f"--{option.name}", str(too_low)]))
        with pytest.raises(ValueError, match=option.name):
            options.parse({option.name: parsed[option.name]}, options.BUILD)


def test_stored_settings_of_the_previous_version_still_give_the_same_parameters():
    """Video.params rows written before the schema (yes/no strings, ints as written) read back unchanged."""
    old = {"min_clip": 2.0, "max_gap": 1.5, "vad_mode": 3, "pad_short_audio": "yes", "smooth": "oneeuro"}
    params = options.dataset_params(old)
    assert params.segment.min_clip == 2.0 and params.segment.max_gap == 1.5 and params.segment.vad_mode == 3
    assert params.pad_short_audio is True and params.smooth == "oneeuro"
    assert options.dataset_params({}).as_dict() == options.dataset_params(options.DEFAULTS).as_dict()


def test_min_clip_must_stay_below_max_clip_everywhere():
    from uploads.tus import parse_params

    with pytest.raises(ValueError, match="min_clip must be smaller than max_clip"):
        parse_params({"min_clip": "30", "max_clip": "10"})
    with pytest.raises(ValueError, match="min_clip must be smaller than max_clip"):
        options.parse({"min_clip": 300.0}, options.BUILD)  # against the default max_clip (180 s)
