"""Backups in the console (admins): the list, "make a backup now", and downloads. The work
is app/backups.py's, shared with `flask backup`; restoring stays on the command line, with
the server stopped."""

from flask import redirect, request, send_file, url_for

from .. import backups
from ..web import found_or_404, page_or_fragment
from . import bp
from .access import staff_required
from .forms import ActionForm


def _backups_page(*, made: str | None = None, error: str | None = None, status: int = 200):
    # "Make a backup now" swaps #main: the page template renders it alone (see base.html).
    return page_or_fragment(
        "staff/backups.html", backups=backups.list_backups(), unavailable=backups.unavailable_reason(),
        folder=backups.folder(), made=made, error=error, action_form=ActionForm(),
    ), status


@bp.get("/backups")
@staff_required("admin")
def backups_index():
    # Only a listed file is named as "just made": the query string is anyone's to write.
    made = request.args.get("made")
    return _backups_page(made=made if made and backups.find_backup(made) else None)


@bp.post("/backups")
@staff_required("admin")
def make_backup():
    try:
        made = backups.make_backup()
    except backups.BackupError as error:
        return _backups_page(error=str(error), status=422)
    if request.htmx:
        return _backups_page(made=made.name)
    return redirect(url_for("staff.backups_index", made=made.name), code=303)


@bp.get("/backups/<name>")
@staff_required("admin")
def download_backup(name: str):
    backup = found_or_404(backups.find_backup(name))
    backups.record_download(backup)
    response = send_file(backup.path, as_attachment=True, download_name=backup.name,
                         mimetype="application/octet-stream", conditional=False)
    response.headers["Cache-Control"] = "no-store"  # the whole database: no copy in any cache
    return response
