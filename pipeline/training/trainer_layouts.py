"""Export layouts that trainers read as they are: one registry, one writer per layout.

Each writer takes the clips (ExportClip), the split of their videos and the export options, and yields
(relative path, bytes), one clip at a time (memory stays flat).  Every layout ends with an ``export.json`` that
says which trainer it targets, its fields, the fps, the splits (and which are empty) and the clips left out with
the reason.  The layouts, their fields and the loaders they were checked against are described in the README
("Trainer layouts").

- ``unitalker``: UniTalker's AudioFaceDataset (dataset/dataset.py, data_item.py): ``train.json``, ``val.json``,
  ``test.json`` of ``{"info": {"id_list"}, "data": [{annot_path, audio_path, id, annot_type, dataset, fps}]}``,
  ``id_template.npy`` (identities x 52), annotations ``annot/<key>.npy`` (T x 52, ARKit order, 0-1) and
  ``audio/<key>.wav`` (16 kHz), fps 25 or 30.
- ``npy`` (FaceFormer-style): ``clips/<key>/blendshapes.npy`` (T x 52), ``audio.wav``, ``usable.npy``, one
  ``index.json`` and ``templates.pkl`` (subject -> the ARKit neutral face, 52 zeros).
- ``musetalk``: MuseTalk's FaceDataset (musetalk/data/dataset.py): ``meta/<key>.json`` with ``mp4_path``,
  ``wav_path``, ``face_list`` (per-frame box x1, y1, x2, y2 px), ``landmark_list`` (per-frame 68 x 2 px, the iBUG
  68 points taken from MediaPipe's mesh), ``frames``; ``train.txt`` / ``val.txt`` / ``test.txt`` (a header line,
  then one meta path per line).  The clip's own mp4 and frames: no resampling.
"""
from __future__ import annotations

import hashlib
import io
import json
import pickle
import wave
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from pipeline.face.blendshape_names import ARKIT_NAMES
from pipeline.training.trainer_clip import LeftOut, TrainerClip, nearest_trainer_fps, safe_key, trainer_clip
from pipeline.training.training_export import SPLITS, ExportClip, empty_splits

SPLIT_FILE = {"train": "train", "validation": "val", "test": "test"}  # the names the trainers use
UNITALKER_ANNOT_TYPE = "mediapipe_arkit52_blendshape_weight"  # a new head in UniTalker's terms (see the README)

# The iBUG 68 points as MediaPipe Face Mesh vertices: jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, lips 48-67
# (outer 48-59, inner 60-67).  The nearest mesh vertex to each point; the lips (which MuseTalk's mouth mask
# uses) are exact mesh lip vertices.
IBUG68_FROM_MESH = (
    127, 234, 93, 132, 58, 136, 150, 176, 152, 400, 379, 365, 288, 361, 323, 454, 356,
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,
    168, 197, 5, 4, 75, 97, 2, 326, 305,
    33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,
    78, 82, 13, 312, 308, 317, 14, 87,
)


@dataclass(frozen=True)
class LayoutOptions:
    fps: float | None = None  # None: the trainer rate nearest each clip's own (musetalk: the clip's own frames)
    seed: int = 0
    fractions: dict | None = None  # shares of videos per split (recorded; the split itself comes in)
    describe: dict | None = None
    crop_size: int = 256  # facecrops: the crop's side in pixels (256 or 512)
    progress: Callable[[int], None] | None = None  # facecrops: told the frames written after each clip


class Keys:
    """Unique file-name-safe keys <video>-<clip>."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, clip: ExportClip) -> str:
        base = safe_key(f"{clip.video}-{clip.name}")
        key, n = base, 1
        while key in self.used:
            n += 1
            key = f"{base}-{n}"
        self.used.add(key)
        return key


def wav_16k(path) -> bytes:
    """The clip's wav as it is, after checking it is what the trainers load (16 kHz mono PCM)."""
    data = path.read_bytes()
    with wave.open(io.BytesIO(data)) as w:
        if w.getframerate() != 16000 or w.getnchannels() != 1:
            raise ValueError(f"{path.name}: {w.getframerate()} Hz, {w.getnchannels()} channel(s); 16 kHz mono needed")
    return data


def npy_bytes(array: np.ndarray) -> bytes:
    sink = io.BytesIO()
    np.save(sink, array, allow_pickle=False)
    return sink.getvalue()


def json_bytes(value) -> bytes:
    return json.dumps(value, indent=1, default=str).encode()


class Tally:
    """What every layout's export.json reports: counts per split, what was left out, a content hash."""

    def __init__(self) -> None:
        self.frames = dict.fromkeys(SPLITS, 0)
        self.clips = dict.fromkeys(SPLITS, 0)
        self.left_out: list[dict] = []
        self.content = hashlib.sha256()

    def add(self, clip: ExportClip, split: str, frames: int) -> None:
        self.frames[split] += frames
        self.clips[split] += 1
        self.content.update(json.dumps([clip.clip_id, sorted(clip.file_hashes.items())]).encode())

    def leave_out(self, clip: ExportClip, exc: Exception) -> None:
        problem = str(exc) if isinstance(exc, LeftOut) else f"{type(exc).__name__}: {exc}"
        self.left_out.append({"clip_id": clip.clip_id, "clip": clip.name, "source": clip.source, "problem": problem})

    def info(self, layout: str, trainer: str, splits: dict[str, str], options: LayoutOptions, **extra) -> dict:
        return {"format": f"talking-face-training/{layout}/1", "trainer": trainer, **(options.describe or {}),
                "split": {"by": "source video", "seed": options.seed, "fractions": options.fractions,
                          "videos": {s: sorted(v for v, x in splits.items() if x == s) for s in SPLITS}},
                "counts": {"clips": self.clips, "frames": self.frames}, "empty_splits": empty_splits(self.frames),
                "left_out": self.left_out, "content_sha256": self.content.hexdigest(), **extra}


def dense_clips(clips: Iterable[ExportClip], splits: dict[str, str], options: LayoutOptions,
                tally: Tally) -> Iterator[tuple[ExportClip, str, TrainerClip, bytes]]:
    """(clip, split, its dense frames at the trainer rate, its 16 kHz wav) of every clip the layout can hold; the
    others go to the tally's left_out with the reason."""
    keys = Keys()
    for clip in clips:
        fps = options.fps or nearest_trainer_fps(float(clip.info.get("fps") or 25.0))
        try:
            dense = trainer_clip(keys(clip), clip.files, fps)
            audio = wav_16k(clip.files.audio)
        except (OSError, ValueError, KeyError) as exc:
            tally.leave_out(clip, exc)
            continue
        yield clip, splits.get(clip.video, "train"), dense, audio


def unitalker_entries(clips: Iterable[ExportClip], splits: dict[str, str],
                      options: LayoutOptions) -> Iterator[tuple[str, bytes]]:
    tally = Tally()
    ids = sorted(set(splits))  # one identity per source video, the same list in every split file
    id_of = {video: i for i, video in enumerate(ids)}
    data: dict[str, list[dict]] = {s: [] for s in SPLITS}
    for clip, split, dense, audio in dense_clips(clips, splits, options, tally):
        if clip.video not in id_of:  # a video the split did not name (it goes to train): an identity all the same
            id_of[clip.video] = len(ids)
            ids.append(clip.video)
        yield f"annot/{dense.key}.npy", npy_bytes(dense.arkit)
        yield f"audio/{dense.key}.wav", audio
        data[split].append({"annot_path": f"annot/{dense.key}.npy", "audio_path": f"audio/{dense.key}.wav",
                            "id": id_of[clip.video], "annot_type": UNITALKER_ANNOT_TYPE,
                            "dataset": "talking_face_dataset", "fps": int(dense.fps)})
        tally.add(clip, split, dense.frames)
    for split in SPLITS:
        yield f"{SPLIT_FILE[split]}.json", json_bytes({"info": {"id_list": ids}, "data": data[split]})
    yield "id_template.npy", npy_bytes(np.zeros((len(ids), len(ARKIT_NAMES)), np.float32))
    yield "blendshape_names.txt", ("\n".join(ARKIT_NAMES) + "\n").encode()
    yield "export.json", json_bytes(tally.info(
        "unitalker", "UniTalker (X-niper/UniTalker, dataset/dataset.py AudioFaceDataset)", splits, options,
        annot_type=UNITALKER_ANNOT_TYPE, annot_dim=len(ARKIT_NAMES), names="blendshape_names.txt (ARKit order)",
        id_template="ARKit's neutral face (zeros) per identity; identity = source video"))


def npy_entries(clips: Iterable[ExportClip], splits: dict[str, str],
                options: LayoutOptions) -> Iterator[tuple[str, bytes]]:
    tally = Tally()
    index = []
    for clip, split, dense, audio in dense_clips(clips, splits, options, tally):
        folder = f"clips/{dense.key}"
        yield f"{folder}/blendshapes.npy", npy_bytes(dense.arkit)
        yield f"{folder}/usable.npy", npy_bytes(dense.usable)
        yield f"{folder}/audio.wav", audio
        index.append({"id": dense.key, "subject": safe_key(clip.video), "split": split, "fps": dense.fps,
                      "frames": dense.frames, "blendshapes": f"{folder}/blendshapes.npy",
                      "usable": f"{folder}/usable.npy", "audio": f"{folder}/audio.wav", "source": clip.source,
                      "source_start_s": clip.info.get("source_start_s"), "clip": clip.name})
        tally.add(clip, split, dense.frames)
    subjects = {s: sorted({e["subject"] for e in index if e["split"] == s}) for s in SPLITS}
    all_subjects = sorted({safe_key(v) for v in splits})
    yield "templates.pkl", pickle.dumps({s: np.zeros(len(ARKIT_NAMES), np.float32) for s in all_subjects})
    yield "index.json", json_bytes({"names": list(ARKIT_NAMES), "clips": index, "subjects": subjects,
                                    "faceformer_args": {f"{SPLIT_FILE[s]}_subjects": " ".join(subjects[s])
                                                        for s in SPLITS}})
    yield "export.json", json_bytes(tally.info(
        "npy", "FaceFormer-style per-clip npy + wav (EvelynFan/FaceFormer data_loader.py)", splits, options,
        names="index.json names (ARKit order)"))


def ibug68(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """(T, 478, 3) normalised mesh landmarks -> (T, 68, 2) pixels of a width x height frame."""
    points = np.asarray(landmarks[:, IBUG68_FROM_MESH, :2], np.float64)
    return points * np.array([width, height], np.float64)


def video_size(path) -> tuple[int, int]:
    from pipeline.media.probe import probe

    info = probe(path)
    return info.width, info.height


def framed_face(clip: ExportClip, why_video: str) -> tuple[dict, np.ndarray]:
    """The per-frame face data of a clip whose own video a layout reads, and the frames with a face box; LeftOut
    when the video or the face data is missing or too few frames have a face."""
    from pipeline.face.face_data import read_face_data
    from pipeline.training.trainer_clip import MIN_USABLE

    if not clip.files.video.is_file():
        raise LeftOut(f"no clip video (made with clip_video none): {why_video}")
    if not clip.files.face.is_file():
        raise LeftOut("no per-frame face data (a clip made before it existed: rerun make_dataset)")
    face = read_face_data(clip.files.face)
    good = face["face"] & ~np.isnan(face["box_px"]).any(axis=1)
    if good.mean() < MIN_USABLE:
        raise LeftOut(f"a face on only {good.mean():.0%} of its frames (at least {MIN_USABLE:.0%} needed)")
    return face, good


def musetalk_entries(clips: Iterable[ExportClip], splits: dict[str, str],
                     options: LayoutOptions) -> Iterator[tuple[str, bytes]]:
    from pipeline.training.trainer_clip import fill_gaps

    if options.fps:
        raise ValueError("musetalk keeps each clip's own video frames: --fps does not apply to it")
    tally = Tally()
    keys = Keys()
    lists: dict[str, list[str]] = {s: [] for s in SPLITS}
    warnings: list[str] = []
    for clip in clips:
        split = splits.get(clip.video, "train")
        try:
            key = keys(clip)
            face, good = framed_face(clip, "MuseTalk reads the clip's frames")
            width, height = video_size(clip.files.video)
            t = face["time_s"]
            box = np.rint(fill_gaps(face["box_px"], good, t)).astype(int)
            marks = ibug68(face["landmarks"], width, height).reshape(t.size, -1)
            marks = np.rint(fill_gaps(marks, good & ~np.isnan(marks).any(axis=1), t)).astype(int).reshape(-1, 68, 2)
            video, audio = clip.files.video.read_bytes(), wav_16k(clip.files.audio)
        except (OSError, ValueError, KeyError) as exc:
            tally.leave_out(clip, exc)
            continue
        fps = float(clip.info.get("fps") or 0)
        if abs(fps - 25) > 0.5:
            warnings.append(f"{key}: {fps:g} fps; MuseTalk reads audio at 25 fps frame times")
        yield f"video/{key}.mp4", video
        yield f"audio/{key}.wav", audio
        meta = {"mp4_path": f"video/{key}.mp4", "wav_path": f"audio/{key}.wav", "video_size": [width, height],
                "face_list": box.tolist(), "landmark_list": marks.tolist(), "frames": int(t.size), "fps": fps,
                "usable": good.tolist(), "isvalid": True}
        yield f"meta/{key}.json", json.dumps(meta).encode()
        lists[split].append(f"meta/{key}.json")
        tally.add(clip, split, int(t.size))
    for split in SPLITS:
        yield f"{SPLIT_FILE[split]}.txt", ("meta_path\n" + "".join(f"{p}\n" for p in lists[split])).encode()
    yield "export.json", json_bytes(tally.info(
        "musetalk", "MuseTalk (TMElyralab/MuseTalk, musetalk/data/dataset.py FaceDataset)", splits, options,
        landmarks="iBUG 68 points from MediaPipe's mesh (pipeline/training/trainer_layouts.py IBUG68_FROM_MESH)",
        paths="relative to the export folder (pass it as FaceDataset's root_path and run from it)",
        warnings=warnings))


def facecrops_entries(clips: Iterable[ExportClip], splits: dict[str, str],
                      options: LayoutOptions) -> Iterator[tuple[str, bytes]]:
    """Face-aligned crop videos (pipeline.training.face_crops) with their wav, landmarks and transforms."""
    import time

    from pipeline.training.face_crops import FPS, SIZES, TEMPLATE, crop_in_temp

    if options.fps and options.fps != FPS:
        raise ValueError(f"facecrops are {FPS} fps (what Wav2Lip and LatentSync train on): leave --fps out")
    if options.crop_size not in SIZES:
        raise ValueError(f"crop size must be one of {', '.join(map(str, SIZES))}")
    tally = Tally()
    keys = Keys()
    lists: dict[str, list[str]] = {s: [] for s in SPLITS}
    index = []
    started, written = time.perf_counter(), 0
    for clip in clips:
        split = splits.get(clip.video, "train")
        key = keys(clip)
        try:
            face, _ = framed_face(clip, "the crops are cut from the clip's frames")
            crop = crop_in_temp(clip.files.video, face, clip.files.audio, options.crop_size)
            audio = wav_16k(clip.files.audio)
        except (OSError, ValueError, KeyError) as exc:
            tally.leave_out(clip, exc)
            continue
        folder = f"clips/{key}"
        yield f"{folder}/video.mp4", crop["video"]
        yield f"{folder}/audio.wav", audio
        yield f"{folder}/landmarks.npy", npy_bytes(crop["landmarks"])
        yield f"{folder}/affine.npy", npy_bytes(crop["affine"])
        lists[split].append(folder)
        index.append({"id": key, "split": split, "folder": folder, "frames": crop["frames"], "fps": FPS,
                      "size": options.crop_size, "source": clip.source, "clip": clip.name,
                      "source_start_s": clip.info.get("source_start_s")})
        tally.add(clip, split, crop["frames"])
        written += crop["frames"]
        if options.progress:
            options.progress(written)
    seconds = time.perf_counter() - started
    for split in SPLITS:
        yield f"{SPLIT_FILE[split]}.txt", "".join(f"{p}\n" for p in lists[split]).encode()
    yield "index.json", json_bytes({"clips": index, "fps": FPS, "size": options.crop_size})
    yield "export.json", json_bytes(tally.info(
        "facecrops", "Wav2Lip / LatentSync-style face-aligned crops (25 fps video, 16 kHz audio)", splits, options,
        fps=FPS, size=options.crop_size, template=TEMPLATE,
        speed={"frames": written, "seconds": round(seconds, 2),
               "frames_per_s": round(written / seconds, 1) if seconds > 0 else None}))


def parquet_entries(clips: Iterable[ExportClip], splits: dict[str, str],
                    options: LayoutOptions) -> Iterator[tuple[str, bytes]]:
    from pipeline.training.training_export import export_entries

    return export_entries(clips, splits, seed=options.seed, fractions=options.fractions,
                          describe=options.describe, fps=options.fps)


Writer = Callable[[Iterable[ExportClip], dict[str, str], LayoutOptions], Iterator[tuple[str, bytes]]]
LAYOUTS: dict[str, tuple[Writer, str]] = {
    "parquet": (parquet_entries, "Parquet, one row per frame (our loader, pandas, polars)"),
    "unitalker": (unitalker_entries, "UniTalker: npy T x 52 + 16 kHz wav, train/val/test.json"),
    "npy": (npy_entries, "FaceFormer-style: per clip blendshapes.npy + audio.wav, index.json"),
    "musetalk": (musetalk_entries, "MuseTalk: per clip json (box, 68 landmarks), mp4 + wav, train/val.txt"),
    "facecrops": (facecrops_entries, "face-aligned crop videos, 25 fps, 256 or 512 px, with 16 kHz wav and landmarks "
                                     "(Wav2Lip, LatentSync)"),
}


def layout_entries(layout: str, clips: Iterable[ExportClip], splits: dict[str, str],
                   options: LayoutOptions) -> Iterator[tuple[str, bytes]]:
    if layout not in LAYOUTS:
        raise ValueError(f"unknown export format {layout!r}; one of {', '.join(LAYOUTS)}")
    return LAYOUTS[layout][0](clips, splits, options)
