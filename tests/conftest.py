"""The test suite's root: pytest puts this folder on ``sys.path``, for ``support.py``."""
