"""The benchmark harness: ``.venv/bin/python bench/run.py [--quick]`` (see run.py)."""
