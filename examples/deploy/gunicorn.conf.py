"""gunicorn configuration for an onion-wsgi app (matrix rows 3, 4 and 11 run this file).

Run it from the project root::

    gunicorn -c examples/deploy/gunicorn.conf.py examples.deploy.wsgi:application

Every setting below can be changed without editing the file, in this order of
precedence (highest first):

1. gunicorn's command line: ``-k gthread --threads 4``, ``-w 2``, ``-b 127.0.0.1:9000``;
2. ``GUNICORN_CMD_ARGS="--workers=3 --timeout=60"``, which gunicorn reads itself;
3. the environment variables read here (``GUNICORN_BIND``, ``WEB_CONCURRENCY``,
   ``GUNICORN_THREADS``, ``GUNICORN_WORKER_CLASS``, ...);
4. the defaults written here.

Behind nginx (``examples/deploy/nginx.conf``), start the app with ``TRUSTED_PROXIES=1``
so that werkzeug's ``ProxyFix`` (see ``examples/deploy/wsgi.py``) takes the client's
address, scheme, host, port and path prefix from the ``X-Forwarded-*`` headers nginx sets.
"""

import multiprocessing
import os

# -- where to listen ---------------------------------------------------------------------------
# A TCP address ("127.0.0.1:8000", "0.0.0.0:8000") or a Unix socket ("unix:/run/myapp.sock").
# Keep 127.0.0.1 behind a reverse proxy on the same machine: only the proxy may reach gunicorn.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Pending connections the kernel queues while every worker is busy.
backlog = 2048

# -- how many requests at once -----------------------------------------------------------------
# Processes. gunicorn's advice is (2 x cores) + 1 for the sync and gthread workers; WEB_CONCURRENCY
# is the variable gunicorn itself (and Heroku-style platforms) use to override it. With gevent
# workers, one or two per core is enough: each serves worker_connections clients.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))

# Threads per worker. More than one turns the sync worker into "gthread": a thread pool per
# process, which helps when requests wait on I/O (databases, HTTP APIs) and shares memory.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))

# "sync" (one request per process at a time: simple and robust, keep nginx in front to absorb
# slow clients), "gthread" (threads), or "gevent" (greenlets: thousands of slow or long-polling
# clients per process; pip install gevent). gunicorn monkey-patches the standard library
# itself for gevent workers, in each worker before the app is imported.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread" if threads > 1 else "sync")

# Simultaneous clients per gevent (or gthread keep-alive) worker.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))

# Import the app in each worker after the fork (the default). preload_app = True saves memory
# and start-up time with sync/gthread workers, but must stay False with gevent: the app would be
# imported in the master before the workers monkey-patch the standard library.
preload_app = False

# Restart each worker after this many requests (plus up to the jitter, so they do not all
# restart together): bounds slow memory leaks. 0 turns it off.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = 100

# -- timeouts ----------------------------------------------------------------------------------
# A worker silent for this many seconds is killed and restarted (for sync workers: a request
# taking longer). Raise it for slow endpoints rather than setting it to 0.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM or reload, workers get this long to finish the requests in flight.
graceful_timeout = 30
# Seconds to keep an idle keep-alive connection open (gthread and gevent; sync closes each
# connection). Behind nginx 2-5 s is plenty; a load balancer wants it above its own idle timeout.
keepalive = 5

# -- behind a proxy ----------------------------------------------------------------------------
# Addresses allowed to set the headers gunicorn trusts itself (X-Forwarded-Proto and friends,
# turned into wsgi.url_scheme). The app's ProxyFix (TRUSTED_PROXIES=N) does the rest: client
# address, host, port and prefix. Use "*" only when gunicorn listens on a Unix socket or a
# private network that nothing but the proxy can reach.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# -- logs --------------------------------------------------------------------------------------
# "-" is stdout/stderr: let systemd, supervisord or the container collect them.
# Set GUNICORN_ACCESSLOG="" to turn the access log off (nginx keeps one anyway).
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Combined log format plus the request time in microseconds.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s'

# The process title in ps/top (with setproctitle installed).
proc_name = os.environ.get("GUNICORN_PROC_NAME", "onion-wsgi")

# gunicorn >= 25.1 opens a control socket for `gunicornc` at ~/.gunicorn/gunicorn.ctl by default,
# one path shared by every gunicorn the user runs. Give each app its own path to use it, e.g.
# control_socket = "/run/myapp/gunicorn.ctl". Older gunicorn ignores both settings.
control_socket_disable = True


# -- hooks -------------------------------------------------------------------------------------
def post_worker_init(worker):
    """Log when a worker has imported the app and can take requests.

    "Booting worker" is logged before the import, so this line is the one to wait for
    (supervisors, deploy scripts, the matrix tests). A worker still booting may lose a
    SIGTERM sent to it in the first moments (gevent workers spend them monkey-patching),
    and is then only stopped after graceful_timeout.
    """
    worker.log.info("Worker ready (pid: %s)", worker.pid)
