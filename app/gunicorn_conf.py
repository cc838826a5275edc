"""gunicorn settings shared by `make run`, the browser tests and benchmarks."""

import os

# gthread keeps connections alive cheaply; a long SSE or poll never blocks a whole worker.
worker_class = "gthread"
workers = int(os.environ.get("LINLI_WORKERS", "2"))
threads = int(os.environ.get("LINLI_THREADS", "4"))
bind = os.environ.get("LINLI_BIND", "127.0.0.1:8000")
timeout = 30
graceful_timeout = 10
keepalive = 5
# Connections one worker holds at once: its threads' requests, and kept-alive connections
# beyond those (past which its answers close the connection instead). A worker at the limit
# leaves new connections in the listening socket's queue for the other worker. Without a
# low limit, a burst (a class notice landing in a WeChat group) is taken up in uneven shares,
# and the worker that took more still works through its share after the other has finished
# (measured on the phone rush: 300 sign-ups answered within 1.3–1.6 s with gunicorn's
# default of 1000, 1.0–1.15 s with 32).
worker_connections = 32
accesslog = os.environ.get("LINLI_ACCESS_LOG") or None
errorlog = "-"
# gunicorn 27's control socket has one default path per user: several instances on one
# machine (tests, benchmarks, a district's servers) would take it from each other.
control_socket_disable = True
# The app the workers build serves requests only: it leaves migration tooling unloaded
# (app/extensions.py init_migrations); `flask init` migrates before the server starts.
raw_env = ["LINLI_SERVING=1"]
