"""make_dataset on real talk: segmentation, exact cuts, frame-synchronous features, QC, resumability."""
from __future__ import annotations

import csv
import json
import re
import wave

import av
import numpy as np
import pytest

from pipeline.audio.segment import SegmentParams, segment_speech
from pipeline.audio.track import decode_audio
from pipeline.dataset.build import build_dataset
from testing.media_factory import delay_audio
from testing.support import THREE_CLIPS

TALKING = [(0.0, 6.1), (8.1, 13.1), (15.1, 20.1)]  # talk3.mp4's three talking segments (its README)


def decoded_video_frames(path) -> list[float]:
    with av.open(str(path)) as container:
        return [float(f.pts * f.time_base) for f in container.decode(video=0)]


def test_three_clips_one_inside_each_talking_segment(talk3_dataset):
    clips = talk3_dataset.clips
    assert len(clips) == 3
    assert talk3_dataset.failed == []
    for clip, (start, end) in zip(clips, TALKING):
        assert start - 0.1 <= clip["source_start_s"] < clip["source_end_s"] <= end + 0.3
    for a, b in zip(clips, clips[1:]):
        assert a["source_end_s"] < b["source_start_s"]


def test_default_gap_splits_the_first_segment_at_its_pause(media):
    audio = decode_audio(media("talk3.mp4"))
    clips = segment_speech(audio, SegmentParams(min_clip=1)).clips
    spans = [(round(c.start_s, 2), round(c.end_s, 2)) for c in clips]
    assert len(spans) == 4
    assert spans[0][1] == pytest.approx(2.46, abs=0.1) and spans[1][0] == pytest.approx(3.51, abs=0.1)
    for start, end in spans:  # none crosses a 2 s gap
        assert any(s - 0.1 <= start and end <= e + 0.3 for s, e in TALKING)


def test_defaults_drop_short_segments_and_say_so(media):
    audio = decode_audio(media("talk3.mp4"))
    result = segment_speech(audio, SegmentParams())
    assert result.clips == []
    assert len(result.dropped) == 4
    assert all("min_clip" in d["reason"] and d["duration_s"] < 20 for d in result.dropped)


def test_layout_and_frame_counts_agree(talk3_dataset):
    root = talk3_dataset.root
    for clip in talk3_dataset.clips:
        name = clip["clip"]
        video_times = decoded_video_frames(root / "clips" / f"{name}.mp4")
        with open(root / "data" / f"{name}_blendshapes.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        features = np.load(root / "data" / f"{name}_audio_features.npz")
        mask = np.load(root / "data" / f"{name}_quality_mask.npy")
        frames = len(video_times)
        assert frames == clip["frames"] == len(rows) == features["times_s"].shape[0] == mask.shape[0]
        assert features["mel"].shape == (frames, 80)
        assert features["mfcc"].shape == (frames, 13)
        for key in ("f0", "voicing", "zcr", "spectral_centroid", "rms"):
            assert features[key].shape == (frames, 1), key
        assert [float(r["time_s"]) for r in rows] == pytest.approx(video_times, abs=1e-6)
        assert features["times_s"] == pytest.approx(video_times, abs=1e-6)
        assert video_times[0] == 0.0
        with wave.open(str(root / "data" / f"{name}_audio.wav")) as wav:
            assert wav.getframerate() == 16000 and wav.getnchannels() == 1
            wav_seconds = wav.getnframes() / 16000
        frame_s = 1.0 / clip["fps"]
        assert abs(wav_seconds - clip["duration_s"]) <= frame_s
        assert abs(clip["duration_s"] - (video_times[-1] + frame_s)) <= frame_s
        meta = json.loads((root / "data" / f"{name}_metadata.json").read_text())
        assert meta["blendshape_names"][0] == "_neutral" and len(meta["blendshape_names"]) == 52
        assert set(meta["files"]) >= {"video", "blendshapes", "audio", "audio_features", "quality_mask"}
        assert 0 <= meta["quality_score"] <= 100
        from pipeline.quality.scoring import score

        assert meta["quality_score"] == score(meta["quality"])
        assert 0.3 < meta["speech_ratio"] <= 1.0


def test_cut_is_sample_and_frame_exact(media, talk3_dataset):
    """The clip's first frame is the source frame at its start, and its audio is the source audio from there."""
    source = decode_audio(media("talk3.mp4"))
    for clip in talk3_dataset.clips:
        path = talk3_dataset.root / "clips" / f"{clip['clip']}.mp4"
        clip_audio = decode_audio(path)
        assert clip_audio.start_time_s == pytest.approx(0.0, abs=1e-3)
        reference = source.slice(clip["source_start_s"], clip["source_end_s"])
        n = min(reference.size, clip_audio.samples.size) - 400
        lags = range(-32, 33)  # +-2 ms at 16 kHz
        scores = [np.dot(clip_audio.samples[200 + lag: 200 + lag + n - 64], reference[200: 200 + n - 64]) for lag in lags]
        assert list(lags)[int(np.argmax(scores))] in (-1, 0, 1), "clip audio is shifted against the source"
        with av.open(str(path)) as container:
            first = next(container.decode(video=0)).to_ndarray(format="gray").astype(float)
        with av.open(str(media("talk3.mp4"))) as container:
            frames = {round(float(f.pts * f.time_base), 6): f.to_ndarray(format="gray").astype(float)
                      for f in container.decode(video=0)
                      if abs(float(f.pts * f.time_base) - clip["source_start_s"]) < 0.2}
        diffs = {t: np.abs(img - first).mean() for t, img in frames.items()}
        assert min(diffs, key=diffs.get) == pytest.approx(clip["source_start_s"], abs=1e-3)


def test_features_follow_frame_times(talk3_dataset):
    clip = talk3_dataset.clips[0]
    features = np.load(talk3_dataset.root / "data" / f"{clip['clip']}_audio_features.npz")
    params = json.loads(str(features["params"]))
    assert params["hop_samples"] == pytest.approx(16000 / clip["fps"], rel=0.02)
    assert features["voicing"].sum() > 10  # a talking person is voiced much of the time
    f0 = features["f0"][features["voicing"][:, 0] > 0, 0]
    assert 60 < np.median(f0) < 400


def test_reports_and_manifest(talk3_dataset):
    root = talk3_dataset.root
    report = json.loads((root / "dataset_report.json").read_text())
    assert report["totals"]["clips"] == 3
    assert len(report["clips"]) == 3 and report["recommendations"]
    html = (root / "dataset_report.html").read_text()
    assert "Plotly.newPlot" in html or "plotly" in html.lower()
    assert not re.search(r"<script[^>]+src=[\"']?https?:", html), "plotly.js must be inline, not from a CDN"
    assert len(html) > 1_000_000  # the plotly.js bundle itself is in the file
    lines = [json.loads(line) for line in (root / "manifest.jsonl").read_text().splitlines()]
    assert [line["clip"] for line in lines] == ["clip_0000", "clip_0001", "clip_0002"]
    for line in lines:
        for entry in line["files"].values():
            assert (root / entry["path"]).stat().st_size == entry["bytes"]


def test_rerun_skips_finished_clips(media, talk3_dataset):
    root = talk3_dataset.root
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file() and "clip_" in p.name}
    again = build_dataset(media("talk3.mp4"), root, THREE_CLIPS, workers=2)
    assert again.skipped == 3 and len(again.clips) == 3
    after = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file() and "clip_" in p.name}
    assert before == after


def test_damaged_clip_file_is_redone(media, tmp_path, talk3_dataset):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(talk3_dataset.root, root)
    (root / "data" / "clip_0001_audio_features.npz").write_bytes(b"garbage")
    again = build_dataset(media("talk3.mp4"), root, THREE_CLIPS, workers=1)
    assert again.skipped == 2 and len(again.clips) == 3
    np.load(root / "data" / "clip_0001_audio_features.npz")  # valid again


@pytest.mark.slow
def test_audio_delay_moves_the_lip_sync_offset(media, tmp_path, talk3_dataset):
    delayed = delay_audio(media("talk3.mp4"), tmp_path / "talk3_delayed.mp4", 200)
    result = build_dataset(delayed, tmp_path / "delayed", THREE_CLIPS, workers=2)
    before = talk3_dataset.clips[1]["lip_sync"]  # the clearly articulating speaker (retalk_face2)
    after = result.clips[1]["lip_sync"]
    assert after["best_offset_ms"] - before["best_offset_ms"] == pytest.approx(200, abs=50)


def blank_video_between(src, dst, start_s: float, end_s: float):
    """Copy ``src`` re-encoding its video with frames in [start_s, end_s) painted grey (no face), audio untouched."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        vout = out.add_stream("libx264", rate=vin.average_rate, options={"preset": "ultrafast"})
        vout.width, vout.height, vout.pix_fmt = vin.codec_context.width, vin.codec_context.height, "yuv420p"
        vout.time_base = vin.time_base
        vout.codec_context.time_base = vin.time_base
        aout = out.add_stream_from_template(inp.streams.audio[0])
        for packet in inp.demux():
            if packet.stream.type == "audio":
                if packet.dts is not None:
                    packet.stream = aout
                    out.mux(packet)
                continue
            for frame in packet.decode():
                t = float(frame.pts * frame.time_base)
                rgb = frame.to_ndarray(format="rgb24")
                if start_s <= t < end_s:
                    rgb = np.full_like(rgb, 128)
                new = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
                new.pts, new.time_base = frame.pts, frame.time_base
                for p in vout.encode(new):
                    out.mux(p)
        for p in vout.encode():
            out.mux(p)
    return dst


@pytest.mark.slow
def test_a_clip_without_any_face_fails_alone(media, tmp_path):
    source = blank_video_between(media("talk3.mp4"), tmp_path / "talk3_noface_middle.mp4", 7.0, 14.0)
    result = build_dataset(source, tmp_path / "ds", THREE_CLIPS, workers=2)
    assert [c["clip"] for c in result.clips] == ["clip_0000", "clip_0002"]
    assert len(result.failed) == 1
    assert result.failed[0]["clip"] == "clip_0001" and "no face" in result.failed[0]["reason"]
    report = json.loads((result.root / "dataset_report.json").read_text())
    assert report["failed_clips"][0]["reason"] == result.failed[0]["reason"]
    assert not (result.root / "data" / "clip_0001_metadata.json").exists()
