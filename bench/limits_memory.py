"""Peak memory of one clip worker on the largest recording the limits accept (issue #22, finding 5).

Builds, in a temporary folder, a talking face (retalk_face1, scaled up) at the largest accepted picture size
(4096x2304) and at the shared files' usual size (700x700), with its own speech, 6 s long; runs
``make_dataset --workers 1`` on each and prints the peak resident memory of the process that cut the clip
(its children's maximum RSS) and of the whole command, then shows that an 8192x8192 file is refused before
any frame is decoded.

    .venv/bin/python bench/limits_memory.py
"""
from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.long_media import SHARED_MEDIA  # noqa: E402


def scaled(source: Path, target: Path, width: int, height: int) -> Path:
    """``source``'s frames scaled to width x height (H.264) with its audio copied."""
    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        video = out.add_stream("libx264", rate=inp.streams.video[0].average_rate, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = out.add_stream_from_template(inp.streams.audio[0])
        for packet in inp.demux():
            if packet.dts is None:
                continue
            if packet.stream.type == "audio":
                packet.stream = audio
                out.mux(packet)
                continue
            for frame in packet.decode():
                big = frame.reformat(width=width, height=height, format="yuv420p")
                big.pts = frame.pts
                big.time_base = frame.time_base
                for encoded in video.encode(big):
                    out.mux(encoded)
        for encoded in video.encode():
            out.mux(encoded)
    return target


def run(path: Path, out: Path) -> tuple[float, float, int, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "manage.py", "make_dataset", "--no-progress", "--workers", "1",
                           "--min_clip", "2", str(path), "-o", str(out)], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024, proc.returncode, proc.stderr.strip().splitlines()[-1:] and proc.stderr.strip().splitlines()[-1] or ""


def main() -> None:
    source = SHARED_MEDIA / "retalk_face1.mp4"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases = [("700x700 (the shared file)", source),
                 ("4096x2304 (the largest accepted)", scaled(source, folder / "uhd.mp4", 4096, 2304))]
        print(f"{'recording':34} {'seconds':>8} {'peak RSS MiB':>13}  exit")
        for label, path in cases:
            seconds, peak, code, _ = run(path, folder / f"out-{path.stem}")
            print(f"{label:34} {seconds:8.1f} {peak:13.0f}  {code}")
        big = scaled(source, folder / "huge.mp4", 8192, 8192) if "--huge" in sys.argv else None
        if big is not None:
            seconds, _, code, message = run(big, folder / "out-huge")
            print(f"8192x8192: refused in {seconds:.1f} s (exit {code}): {message}")


if __name__ == "__main__":
    main()
