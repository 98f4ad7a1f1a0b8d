"""The ``ovation`` command: the composition root that starts the API, the workers and the scheduler."""
