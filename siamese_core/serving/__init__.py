"""Serving: what the web server runs without TensorFlow. The worker protocol, the server-side
mirrors of jobs, the pool, the worker process, memory readings and the class board's storage.

The rule: nothing here imports TensorFlow when it is imported (the worker process imports it
when a job starts). ``tests/test_layout.py`` holds it."""
