"""Framework-free processing library: probe, decode, landmarks, smoothing, writers.

Nothing in this package imports Django, so every stage can be called from a
management command, a django-q2 job or a test alike.
"""
