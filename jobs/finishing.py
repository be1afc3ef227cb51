"""Finishing a video job: manifest, report and import, from the records its clips returned (ClipTask.record)
and the plan saved when it was planned; no second plan and no re-hashing.  Run once per attempt: by the task
that wins jobs.state.start_finishing."""
from __future__ import annotations

import json

from catalog.importer import import_folder
from catalog.models import Video
from jobs import state
from jobs.carry_over import apply_carry_over
from jobs.lip_sync_refit import maybe_refit, video_params
from jobs.models import ClipTask
from pipeline.errors import PipelineError


def finish_video(video_id: int, token: str) -> None:
    if not state.start_finishing(video_id, token):
        return
    video = Video.objects.get(pk=video_id)
    try:
        from pipeline.dataset.clip_plan import remove_plan
        from pipeline.dataset.build import failure, finish_dataset

        plan, records = finishing_plan(video, token)
        spans = dict(enumerate(plan.segmentation.clips))
        failed = [failure(t.index, spans[t.index], t.error)
                  for t in ClipTask.objects.filter(video_id=video_id, run_token=token, status=ClipTask.Status.FAILED)
                  if t.index in spans and t.index not in records]
        result = finish_dataset(plan, records, failed, skipped=0)
        state.this_attempt(video_id, token).update(stage="importing")
        import_folder(video.dataset, video.output_dir, lines=result.manifest, report=result.report)
        apply_carry_over(video)
        maybe_refit(video.dataset_id)
        remove_plan(video.output_dir)
        state.finished(video_id, token, f"{len(result.failed)} clip(s) failed: see the report" if result.failed else "")
    except Exception as exc:  # noqa: BLE001 - recorded for the user
        state.fail(video_id, token, exc)
        if not isinstance(exc, PipelineError):
            raise
    finally:
        state.release(video_id, token)


def finishing_plan(video: Video, token: str) -> tuple:
    """The saved plan and the records of this attempt's done clips; a plan saved by an older version (a job in
    flight across an upgrade) is made again instead."""
    from pipeline.dataset.clip_files import ClipFiles, clip_name
    from pipeline.dataset.shot_split import load_span
    from pipeline.dataset.clip_plan import plan_for_finishing, restore_timing, saved_audio
    from pipeline.dataset.build import plan_dataset

    params = video_params(video)
    plan = plan_for_finishing(video.output_dir, params)
    if plan is None:
        plan = plan_dataset(video.source_path, video.output_dir, params, audio=saved_audio(video.output_dir),
                            source_name=video.source_name)
        restore_timing(plan)
        return plan, dict(plan.complete)
    records = {}
    for index, record in ClipTask.objects.filter(video_id=video.pk, run_token=token, status=ClipTask.Status.DONE
                                                 ).values_list("index", "record"):
        if record is None:  # done by a worker of the previous version: its metadata files say the same
            record = load_span(plan.root, clip_name(index), plan.key) or json.loads(
                ClipFiles(plan.root, clip_name(index)).metadata.read_text(encoding="utf-8"))
        records[index] = record
    return plan, records
