"""``Paperline``: the Python API the CLI, the dashboard, the HTTP API and notebooks share."""
