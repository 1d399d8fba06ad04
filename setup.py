"""Packaging for onion-wsgi: the ``framework`` and ``middleware`` packages.

The top-level ``templates/`` folder holds the built-in Jinja2 templates. It is
installed inside the ``framework`` package (as ``framework/templates``), so a
wheel and an sdist both carry it and ``framework`` finds it next to itself.
"""

from setuptools import setup

TEST = [
    "pytest>=7.4",
    "WebTest>=3.0",
    "build>=1.0",
    "ruff>=0.4",
    "mypy>=1.8",
    "Flask>=3.0",
    "Django>=4.2",
    "gunicorn>=21.2",
    "waitress>=3.0",
    # the deployment matrix (tests/deploy); DEPLOY below has the servers that compile
    "gevent>=23.9",
    "flup>=1.0.3",
    "tornado>=6.3",
    "supervisor>=4.2",
    # the browser tests (tests/browser): Debian's chromium and chromium-driver drive it
    "selenium>=4.11",
    # property tests (redirects, cookies, sessions)
    "hypothesis>=6.100",
    # RateLimit against real servers (tests/middleware/test_ratelimit_servers.py)
    "redis>=4.2",
    "pymemcache>=4",
    # XSLT (lxml), Compress's brotli, StaticFiles' and Proxy's real-client tests
    "lxml>=5.0",
    "brotli>=1.1",
    "httpx>=0.27",
]
# Servers built from source: uWSGI needs a C compiler, mod_wsgi Apache's apxs (apache2-dev).
DEPLOY = ["uwsgi>=2.0.22", "mod_wsgi>=5.0"]
BENCH = ["Flask>=3.0", "bottle>=0.12", "falcon>=3.1", "pyramid>=2.0", "pyinstrument>=4.6",
         "flask-limiter>=3.5", "redis>=4.2", "whitenoise>=6.6", "lxml>=5.0", "brotli>=1.1"]

setup(
    name="onion-wsgi",
    version="0.1.0",
    description="A small, fast, honest WSGI microframework made of composable layers.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    python_requires=">=3.10",
    packages=["framework", "framework.templates", "middleware"],
    package_dir={"framework.templates": "templates"},
    package_data={
        "framework": ["py.typed"],
        "framework.templates": ["*.html", "*.xml", "*.txt"],
        "middleware": ["py.typed"],
    },
    install_requires=[
        "Werkzeug>=3.0,<4", "Jinja2>=3.1", "itsdangerous>=2.1",
        # RateLimit: limit strings, strategies and storages; the IETF fields as structured fields
        "limits>=4.1", "http-sfv>=0.9.9",
        # Proxy: connection pools to the upstreams
        "urllib3>=2.0",
    ],
    extras_require={
        "test": TEST,
        "bench": BENCH,
        "deploy": DEPLOY,
        "gunicorn": ["gunicorn>=21.2"],
        "waitress": ["waitress>=3.0"],
        "gevent": ["gevent>=23.9"],
        "uwsgi": ["uwsgi>=2.0.22"],
        # RateLimit's shared storages (middleware.ratelimit names these extras when missing)
        "redis": ["redis>=4.2"],
        "memcached": ["pymemcache>=4"],
        # XSLT's transforms (middleware.xslt names this extra when lxml is missing)
        "xslt": ["lxml>=5.0"],
        # brotli for Compress and for `python -m framework assets` (.br siblings)
        "brotli": ["brotli>=1.1"],
    },
    entry_points={"console_scripts": ["onion-wsgi = framework.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: Flask",
        "Topic :: Internet :: WWW/HTTP :: WSGI",
        "Topic :: Internet :: WWW/HTTP :: WSGI :: Middleware",
        "Typing :: Typed",
    ],
)
