"""Issue #20 (2): the dataset's own lip-sync model, refit in the background as the dataset grows, used for the
clips cut after it is adopted."""
from __future__ import annotations

import pytest

from catalog.models import Dataset


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    import django_q.tasks

    monkeypatch.setattr(django_q.tasks, "async_task", lambda *args, **kw: calls.append((args, kw)))
    return calls


def test_a_refit_is_asked_for_once_the_dataset_has_grown(lab, enqueued, monkeypatch):
    from jobs import lip_sync_refit

    talks = lab["talks"]
    assert not lip_sync_refit.maybe_refit(talks.pk)  # 3 clips: too few
    monkeypatch.setattr(lip_sync_refit, "REFIT_MIN_CLIPS", 2)
    assert lip_sync_refit.maybe_refit(talks.pk)
    assert [args for args, _ in enqueued] == [("jobs.lip_sync_refit.refit_dataset", talks.pk)]
    assert not lip_sync_refit.maybe_refit(talks.pk)  # queued already: one refit
    talks.refresh_from_db()
    assert talks.lip_sync_model["status"] == "queued" and talks.lip_sync_model["clips_seen"] == 3
    # the refit runs: one video is not enough to hold one out, said so, and nothing is adopted
    reason = lip_sync_refit.refit_dataset(talks.pk)
    talks.refresh_from_db()
    assert "needs 3 videos" in reason and talks.lip_sync_model["status"] == "done"
    assert talks.lip_sync_model["adopted"] is False and lip_sync_refit.dataset_lip_model(talks) is None
    assert talks.lip_sync_model["clips"] == 3  # every clip had its face file
    assert not lip_sync_refit.maybe_refit(talks.pk)  # not grown by half since


def test_an_adopted_model_is_used_for_the_dataset_s_new_clips(lab, settings, tmp_path):
    from jobs.lip_sync_refit import model_path, video_params
    from pipeline.quality.lip_sync_model import model_at

    settings.DATA_DIR = str(tmp_path)
    talks = lab["talks"]
    video = talks.videos.first()
    assert video_params(video).lip_model is None
    model_path(talks.pk).parent.mkdir(parents=True)
    model_at().save(model_path(talks.pk))
    Dataset.objects.filter(pk=talks.pk).update(lip_sync_model={"adopted": True, "status": "done"})
    video.refresh_from_db()
    assert video_params(video).lip_model == str(model_path(talks.pk))
