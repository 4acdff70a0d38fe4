"""Running the steps: the Huey binding, the worker's heartbeat and goodbye, recovery, metrics."""
