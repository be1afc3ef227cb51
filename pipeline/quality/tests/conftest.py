import pytest


@pytest.fixture(scope="session")
def recording(media):
    """name -> pipeline.quality.lip_sync_model.Recording of a shared file (its mouth and audio), tracked once."""
    from pipeline.face.landmarks import FaceLandmarkTracker
    from pipeline.quality.lip_sync_training import tracked_recording

    cache = {}

    def get(name: str):
        if name not in cache:
            if name.endswith(".wav"):
                from pipeline.audio.track import decode_audio
                from pipeline.quality.lip_sync_model import Recording
                import numpy as np

                audio = decode_audio(media(name))
                cache[name] = Recording(name, np.array([]), np.array([]), np.array([]), audio.samples,
                                        audio.start_time_s, audio.sample_rate)
            else:
                with FaceLandmarkTracker() as tracker:
                    cache[name] = tracked_recording(media(name), tracker)
        return cache[name]

    return get
