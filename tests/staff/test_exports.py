"""What staff report upward, read back as a spreadsheet program would: help requests and a
survey's results as CSV and Excel, headers in the console's language, codes as text."""

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select

from app.audit import AuditEntry
from app.classes import services as classes
from app.experts import services as experts
from app.experts.models import HelpRequest
from app.extensions import db
from tests.experts.test_routes import directory


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def _sheet(response) -> list[list]:
    book = load_workbook(io.BytesIO(response.data))
    return [[cell.value for cell in row] for row in book.active.iter_rows()], book.active


def test_help_requests_export_with_chinese_headers_codes_kept_and_audited(coordinator, run_in_app):
    def ask():
        ids = directory()
        receipt = experts.ask(ids["王老师"], ["learn"], "想学写楷书", "张三明", "13812345678", created_by="kiosk:1")
        request = db.session.scalar(select(HelpRequest).where(HelpRequest.code == receipt.code))
        request.code = "00420017"  # a code that begins with zeros
        db.session.commit()
    run_in_app(ask)
    rows = _csv(coordinator.get("/staff/experts/requests.csv"))
    assert rows[0][:3] == ["回执码", "求助时间", "能人"] and rows[0][5:8] == ["居民", "手机", "状态"]
    assert rows[1][0] == "00420017" and rows[1][2] == "王老师" and rows[1][5:7] == ["张三明", "13812345678"]
    assert rows[1][7] == "已收到：工作人员会给您打电话" and rows[1][3] == "跟他学"
    values, sheet = _sheet(coordinator.get("/staff/experts/requests.xlsx"))
    assert values[1][0] == "00420017" and sheet["A2"].data_type == "s" and sheet["G2"].data_type == "s"
    exported = run_in_app(lambda: db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action == "requests-exported")).all())
    assert len(exported) == 2


def test_survey_results_export_counts_each_answer(coordinator, run_in_app):
    def survey():
        made = classes.save_survey("下学期想学什么？", ["太极拳", "烘焙", "摄影"])
        classes.set_survey_state(made.id, "published")
        first, second, _third = [option.id for option in made.options]
        for chosen in ([first], [first, second], [first]):
            classes.answer_survey(made.id, chosen)
        return made.id
    survey_id = run_in_app(survey)
    rows = _csv(coordinator.get(f"/staff/classes/surveys/{survey_id}/results.csv"))
    assert rows[0] == ["问题", "选项", "票数", "占比"]
    assert rows[1] == ["下学期想学什么？", "太极拳", "3", "1.0"] and rows[2][1:3] == ["烘焙", "1"]
    assert rows[-1][1:3] == ["全部答卷", "3"]
    values, _sheet_ = _sheet(coordinator.get(f"/staff/classes/surveys/{survey_id}/results.xlsx"))
    assert values[0] == ["问题", "选项", "票数", "占比"] and values[1][2] == 3
    assert coordinator.get("/staff/classes/surveys/9999/results.csv").status_code == 404
