"""Celery workers: thin tasks that take ids, run one domain service and commit."""
