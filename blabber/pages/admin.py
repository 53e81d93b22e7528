"""``/admin``: the site admin's page (anyone else is sent home, told why)."""

import reflex as rx

from blabber import routes
from blabber.components.shell import shell
from blabber.components.site_admin import site_admin_page
from blabber.state.site_admin import SiteAdminState

PAGE = dict(route=routes.ADMIN, title="Admin · Blabber", on_load=SiteAdminState.open_admin)


def page() -> rx.Component:
    """The admin page, in the shell."""
    return shell(site_admin_page(), with_members=False)
