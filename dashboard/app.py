"""The Paperline dashboard: upload, live jobs, results, history, charts and queue health in one template."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import panel as pn
import param
from panel.io.resources import LOCAL_DIST
from param.parameters import NoNone

from pipeline.core.errors import UserRefused
from pipeline.service.users import LOCAL_USER

from .analytics import AnalyticsView
from .ask import AskView
from .charts import ChartsView
from .feed import JobFeed, shared_feed
from .formatting import CSS
from .health import QueueHealth
from .history import HistoryTable
from .lazy_tabs import LazyTabs
from .live import LiveJobs
from .notifications import Notifier
from .results import ResultViewer
from .safe_html import format_html
from .search import SearchView
from .state import SessionState
from .tokens import ApiTokensView
from .upload import UploadPanel
from .webhooks import WebhooksView

RESULT_TAB = "Result"
#: the page's typeface: the system's own, so an air-gapped page asks no font server (Fast's is Open Sans from Google)
SYSTEM_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'


class Fast(pn.theme.Fast):
    """Panel's Fast design without its web font, so the page requests nothing from fonts.googleapis.com. (Named
    as Panel's: a design's bundled files are found by its class name.)"""

    _resources = {  # type: ignore[assignment]  # the same mapping, less its font entry
        kind: files for kind, files in pn.theme.Fast._resources.items() if kind != "font"
    }


@contextmanager
def serving_session() -> Iterator[None]:
    """What building a served page needs around it: Panel's stylesheets linked from this server, the process's
    startup objects out of the garbage collector's way, and the page's models indexed once.

    * Panel links a component's stylesheets from cdn.holoviz.org until the page's document says where Panel's files
      are served (``_template_variables["dist_url"]``, set as the page is rendered, after this app has built its
      models), and rewrites them to this server's only for models it finds then: Paperline's page reached the
      browser with every stylesheet on the CDN (holoviz/panel#7073). Set here, as Panel itself sets it;
      ``tests/ui/test_air_gap.py`` fails if this stops working.
    * Panel runs a full ``gc.collect()`` after sessions close: over every object the server imported at start
      (Panel, Bokeh, pandas, the embedding model's runtime: 0.13 s of CPU each time). Those are frozen once, before
      the first page is built, so a collection looks only at what sessions made.
    * Each root the template adds makes Bokeh walk the whole document again (ten roots, ten walks): one freeze of
      the document's models while the page is built leaves one walk at its end.
    """
    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        yield
        return
    variables = doc._template_variables  # Bokeh's; Panel reads it (panel.reactive, panel.io.server)
    variables.setdefault("dist_url", f"{pn.state.rel_path}/{LOCAL_DIST}" if pn.state.rel_path else LOCAL_DIST)
    global _startup_frozen
    if not _startup_frozen:
        _startup_frozen = True
        gc.collect()
        gc.freeze()
    with doc.models.freeze():
        yield


_startup_frozen = False


def page_template(**options: Any) -> pn.template.FastListTemplate:
    """Paperline's page: Fast's list template with the system font, the accent and the house stylesheet."""
    return pn.template.FastListTemplate(
        title="Paperline", design=Fast, font=SYSTEM_FONT, font_url="", accent="#2f80ed", raw_css=[CSS], **options
    )


def filepond_fix_url() -> str:
    """The FileDropper fix (see assets/filepond_fix.js), served by Panel's component resource route from this
    package, so no static route needs configuring and the page's script policy needs no ``data:`` scripts."""
    return f"components/{App.__module__}/App/__javascript__/{App.__javascript__[0]}"


class App(pn.viewable.Viewer):
    """Composes the views over one session's state; works served (``panel serve app.py``) or in a notebook."""

    feed = param.ClassSelector(class_=JobFeed, allow_None=NoNone)  # the shared feed when none is given
    #: served by Panel at ``filepond_fix_url()``; only files listed here are served from this package
    __javascript__ = ["assets/filepond_fix.js"]

    def __init__(self, **params: Any) -> None:
        if params.get("feed") is None:
            params["feed"] = shared_feed()
        super().__init__(**params)
        #: why the signed-in name may not use the page ("" when it may): a reserved name sees no data at all
        self.refusal = ""
        self.signed_in = pn.state.user is not None  # the local analyst exists only where no one signs in
        try:
            user = self.feed.app.sign_in(pn.state.user) if self.signed_in else LOCAL_USER
        except UserRefused as exc:
            self.refusal, user = str(exc), ""
        self.state = SessionState(feed=self.feed, user=user)
        if self.refusal:
            return
        self.upload = UploadPanel(state=self.state)
        self.health = QueueHealth(state=self.state)
        self.live = LiveJobs(state=self.state)
        self.notifier = Notifier(state=self.state)
        served = pn.state.curdoc is not None and pn.state.curdoc.session_context is not None
        job = pn.state.session_args.get("job", [b""])[0].decode() if served else ""
        # Each tab's view is built the first time it is shown: a page opens with the History tab only, or with the
        # Result tab only where its address names a job.
        self.tabs = LazyTabs(
            [
                ("History", lambda: HistoryTable(state=self.state)),
                ("Charts", lambda: ChartsView(state=self.state)),
                (RESULT_TAB, lambda: ResultViewer(state=self.state)),
                ("Analytics", lambda: AnalyticsView(state=self.state)),
                ("Search", lambda: SearchView(state=self.state)),
                ("Ask", lambda: AskView(state=self.state)),
            ],
            state=self.state,
            first=RESULT_TAB if job else "",
        )
        if self.signed_in:  # tokens matter where the server asks people to sign in
            self.tabs.add("API tokens", lambda: ApiTokensView(self.state))
        self.tabs.add("Webhooks", lambda: WebhooksView(self.state))
        self.state.param.watch(self._show_result_tab, ["selected_job", "selected_page"])
        self.state.connect()
        if served:
            pn.state.on_session_destroyed(lambda _ctx: self.close())
            if job:
                self.state.selected_job = job

    def _show_result_tab(self, *events: param.parameterized.Event) -> None:
        """A job (or a page of one) was chosen: show it (both change together when a search hit is opened)."""
        if self.state.selected_job and any(event.new for event in events):
            self.tabs.select(RESULT_TAB)

    def close(self) -> None:
        """Stop receiving updates: the session is gone."""
        self.state.disconnect()

    def _signed_in(self) -> pn.viewable.Viewable:
        """Who is signed in (with a way out), and whether they see everyone's jobs; nothing without auth."""
        if not self.signed_in:
            return pn.pane.HTML("", visible=False)
        role = " (admin: all users' jobs)" if self.state.is_admin else ""
        return pn.pane.HTML(
            format_html(
                '<span class="pl-user">Signed in as <b>{}</b>{} · <a href="/logout">Log out</a></span>',
                self.state.user,
                role,
            ),
            styles={"color": "white"},
        )

    def _refused_page(self) -> pn.template.BaseTemplate:
        """A sign-in the page does not accept: the reason and a way out, and no jobs, feed or upload."""
        return page_template(
            main=[
                pn.pane.HTML(
                    format_html(
                        '<p class="pl-refused" role="alert">{}</p><p><a href="/logout">Log out</a></p>', self.refusal
                    ),
                    sizing_mode="stretch_width",
                )
            ],
        )

    # Panel serves a template returned from __panel__ (a served page's whole layout); Viewer's type says Viewable.
    def __panel__(self) -> pn.template.BaseTemplate:  # type: ignore[override]
        if self.refusal:
            return self._refused_page()
        return page_template(
            header=[self._signed_in()],
            sidebar=[self.upload, self.health],
            main=[self.live, self.tabs],
            sidebar_width=360,
        )
