"""Test-wide set-up shared by tests/framework and tests/middleware."""

import warnings

# WebOb (under WebTest) imports the ``cgi`` module, deprecated since Python 3.11; with
# ``filterwarnings = error`` that import would fail. Import it once here, quietly.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import webtest  # noqa: F401
