"""Log in with an API token, log out."""

from __future__ import annotations

from starlette.responses import Response

from modelyard.ui._auth import SESSION_COOKIE, LoginRequiredError
from modelyard.ui._context import PageRequest

__all__ = ["login", "login_form", "logout"]


def login_form(page: PageRequest) -> Response:
    """The login form."""
    return page.render(
        "login.html",
        title="Log in",
        cli="modelyard token create --name me --scope admin",
        message=None,
        next=page.query("next", page.base + "/"),
    )


def login(page: PageRequest) -> Response:
    """Check the pasted token, open a session, go back to the page that asked."""
    try:
        session_id, _ = page.ui.auth.login(page.form.get("token", ""))
    except LoginRequiredError as error:
        return page.render(
            "login.html", title="Log in", message=error.message, next=page.base + "/", status=401
        )
    target = page.form.get("next", "")
    # only a path of this dashboard: never an open redirect to another site
    if not target.startswith(page.base + "/") or target.startswith("//"):
        target = page.base + "/"
    response = page.redirect("/")
    response.headers["location"] = target
    response.set_cookie(
        SESSION_COOKIE, session_id, httponly=True, samesite="strict", path=page.base or "/"
    )
    return response


def logout(page: PageRequest) -> Response:
    """Forget the session."""
    page.ui.auth.logout(page.request)
    response = page.redirect("/")
    response.delete_cookie(SESSION_COOKIE, path=page.base or "/")
    return response
