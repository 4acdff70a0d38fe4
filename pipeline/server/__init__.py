"""The web server's edge: the names it answers to, who may reach it, and the ``panel serve`` command line."""
