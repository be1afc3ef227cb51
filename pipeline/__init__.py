"""Framework-free processing library, in packages by domain: media, face, audio, quality, dataset, training.

Nothing in this package imports Django (an import-linter contract checks it), so every stage can be called from
a management command, a django-q2 job or a test alike.  Each package names what others use in its
``__init__`` (PUBLIC); the few modules here (errors, atomic, hashing, runs, progress, quiet, orphan_guard) are
shared by all of them.
"""
