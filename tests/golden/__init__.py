"""Golden files: the expected output of every format for every event type and actor shape."""
