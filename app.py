"""Paperline's dashboard: `panel serve app.py` (or `paperline serve`, which also starts a worker)."""

import panel as pn

from dashboard.app import App, filepond_fix_url, serving_session

pn.extension("tabulator", "filedropper", notifications=True, js_files={"paperline_filepond_fix": filepond_fix_url()})

# What pn.state.served checks, without its inspect.stack(), which reads the source of every frame on each page (50 ms)
if __name__.startswith("bokeh_app_"):
    with serving_session():
        App().servable(title="Paperline")
