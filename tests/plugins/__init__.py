"""Plug-ins the tests load the way an installation would (``PAPERLINE_PLUGINS``), from the test suite alone."""
