"""Load benchmarks: gunicorn serving the app on the large dataset, driven by locust (see run.py)."""
