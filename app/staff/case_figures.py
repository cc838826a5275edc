"""The case figures for the street office: one month of the community's cases by grid,
category and unit, with a bar chart drawn on the server, and the same tables as an Excel
workbook. Counts only, so reading them leaves no audit row."""

from flask import Response, abort, render_template, request
from flask_babel import format_percent, gettext as _
from flask_login import current_user

from ..cases import figures
from . import bp
from ..i18n import lazy_gettext as _l
from .access import staff_required

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The chart: per category, cases received, finished on time and finished late.
CHART_BARS = (
    ("received", _l("Received"), "#5b6470"),
    ("on_time", _l("Finished on time"), "#0a5c1f"),
    ("late", _l("Finished late"), "#a3201b"),
)
LABEL_WIDTH, BAR_AREA, VALUE_WIDTH = 170, 460, 50
BAR_HEIGHT, BAR_GAP, GROUP_GAP, LEGEND_HEIGHT = 12, 2, 14, 34


def month_asked() -> tuple:
    """The month asked for (``?month=YYYY-MM``), else this month with a message saying why."""
    text = request.args.get("month", "")
    if not text.strip():
        return figures.this_month(), None
    month = figures.parse_month(text)
    if month is None:
        return figures.this_month(), _("Please choose a month as year and month, such as %(example)s.",
                                      example=figures.this_month().strftime("%Y-%m"))
    return month, None


def in_a_community() -> None:
    """Month pages count one community's records: a session working in none is refused."""
    if current_user.working_community_id is None:
        abort(403)


def percent(value: float | None) -> str:
    return "—" if value is None else format_percent(value, "#,##0.0%")


def chart(rows: list[figures.FigureRow]) -> dict:
    """Where each bar goes: a group of bars per category that has any, longest to scale."""
    shown = [row for row in rows if any(getattr(row.counts, name) for name, _label, _fill in CHART_BARS)]
    top = max((getattr(row.counts, name) for row in shown for name, _label, _fill in CHART_BARS), default=0)
    group_height = len(CHART_BARS) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP
    groups, y = [], LEGEND_HEIGHT
    for row in shown:
        bars = []
        for index, (name, label, fill) in enumerate(CHART_BARS):
            value = getattr(row.counts, name)
            width = round(BAR_AREA * value / top, 1) if top else 0
            bar_y = y + index * (BAR_HEIGHT + BAR_GAP)
            bars.append({"label": label, "value": value, "fill": fill, "x": LABEL_WIDTH, "y": bar_y,
                         "width": width, "height": BAR_HEIGHT, "text_x": LABEL_WIDTH + width + 6,
                         "text_y": bar_y + BAR_HEIGHT - 2})
        groups.append({"label": row.leading[0], "label_y": y + group_height / 2 + 5, "bars": bars})
        y += group_height + GROUP_GAP
    legend = [{"label": label, "fill": fill, "x": LABEL_WIDTH + index * 150, "text_x": LABEL_WIDTH + index * 150 + 18}
              for index, (_name, label, fill) in enumerate(CHART_BARS)]
    return {"width": LABEL_WIDTH + BAR_AREA + VALUE_WIDTH, "height": y, "label_x": LABEL_WIDTH - 8,
            "groups": groups, "legend": legend}


@bp.get("/cases/figures")
@staff_required("moderator")
def cases_figures():
    in_a_community()
    month, error = month_asked()
    table = figures.case_figures(month)
    return render_template("staff/cases_figures.html", figures=table, error=error, percent=percent,
                           chart=chart(table.table("category").rows),
                           previous_month=_month_link(figures.previous_month(month)),
                           next_month=_month_link(figures.next_month(month)))


def _month_link(month) -> str | None:
    """A month to page to, from the community's first case to this month; None outside."""
    return month.strftime("%Y-%m") if figures.first_month() <= month <= figures.this_month() else None


@bp.get("/cases/figures.xlsx")
@staff_required("moderator")
def cases_figures_file():
    in_a_community()
    month, _error = month_asked()
    table = figures.case_figures(month)
    return Response(figures.figures_xlsx(table), mimetype=XLSX, headers={
        "Content-Disposition": f'attachment; filename="linli-cases-{table.month_text}.xlsx"'})
