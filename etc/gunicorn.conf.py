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
accesslog = "-"
errorlog = "-"
loglevel = "info"
max_requests = 5000
max_requests_jitter = 500
