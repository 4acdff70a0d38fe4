"""Paperline's dashboard: `panel serve app.py` (or `paperline serve`, which also starts a worker)."""

import panel as pn

from dashboard.app import App, filepond_fix_url, local_stylesheets

pn.extension("tabulator", "filedropper", notifications=True, js_files={"paperline_filepond_fix": filepond_fix_url()})

if pn.state.served:
    local_stylesheets()
    App().servable(title="Paperline")
