"""The ``paperline`` command: one module per command group."""
