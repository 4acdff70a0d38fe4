"""Paperline's dashboard: `panel serve app.py` (or `paperline serve`, which also starts a worker)."""

import panel as pn

from dashboard.app import App

pn.extension("tabulator", "filedropper", notifications=True)

if pn.state.served:
    App().servable(title="Paperline")
