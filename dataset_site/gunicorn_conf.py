"""gunicorn settings for scripts/run (a lab server, behind a TLS proxy or on a trusted network).

Threads, not many processes: a page is short, but zip downloads and video
streams last minutes, and a thread waiting on a slow client costs little.
The worker (dataset_site/web_worker.py) is gthread with deadlines: a
connection gets a thread only once its request starts arriving, headers must
be complete within 10 s, and a client silent for 60 s mid-request is
dropped; idle connections wait in the poller and are closed after
`keepalive` seconds, so half-open connections cost neither threads nor memory.

Environment: HOST, PORT, WEB_WORKERS (processes, default 2), WEB_THREADS
(threads per process, default 8), WEB_TIMEOUT (seconds, default 120),
DATA_DIR (web.log goes there).
"""
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
worker_class = "dataset_site.web_worker.GuardedThreadWorker"
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
worker_connections = 1000  # open connections per process, idle ones included
timeout = int(os.environ.get("WEB_TIMEOUT", "120"))  # a worker silent this long is restarted
graceful_timeout = 30
keepalive = 5
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
max_requests = 2000  # recycle processes now and then: memory stays bounded
max_requests_jitter = 200
accesslog = str(os.path.join(os.environ.get("DATA_DIR", "var"), "web.log"))  # appended, never truncated
errorlog = "-"
capture_output = False
proc_name = "dataset-web"
control_socket_disable = True  # no runtime control socket in $HOME: scripts/run starts and stops the server
