"""Background jobs: batch simulations and the periodic clean-ups.

``services`` starts, claims and finishes jobs; ``selectors`` reads them;
``events`` pushes their progress to WebSocket watchers; ``metrics`` exports
their counts and the broker's queue length to Prometheus. The Celery tasks in
``game.tasks`` only hand a job id (or nothing) to a service.
"""
