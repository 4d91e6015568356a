# gunicorn settings for `ci-health serve`; --host/--port/--workers override bind and workers.
bind = "127.0.0.1:8080"
workers = 2
# gthread with JSON bodies for the errors gunicorn answers itself (414, 431, 400)
worker_class = "health_api.serve_worker.JsonErrorThreadWorker"
threads = 4
timeout = 60
graceful_timeout = 20
keepalive = 5
# Workers import the app themselves so each gets its own database pool.
preload_app = False
# no gunicorn access log: each worker writes the app's structured access line (JSON with
# the request id, route, status and duration) to stderr; accesslog = "-" adds gunicorn's
# plain one (a second line, and ~0.1 ms of CPU, per request)
accesslog = None
errorlog = "-"
loglevel = "info"
# a worker's restart costs ~2 s of CPU (it imports pandas and the app): at 1,000
# req/s over 4 workers 5,000 requests restarted one every 5 s (issue 16, bench/load.py)
max_requests = 100000
max_requests_jitter = 10000
