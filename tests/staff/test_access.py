"""Every URL rule, asked by every kind of visitor: the answer each one must get."""

from datetime import timedelta

import pytest
from werkzeug.routing import AnyConverter, IntegerConverter

from app.clock import utcnow
from app.kiosk.devices import DEVICE_COOKIE
from app.notices.services import add_notice
from tests.factories import STAFF_PASSWORD, enrolled_kiosk, staff_member

VISITORS = ("anonymous", "kiosk", "admin", "moderator", "coordinator", "matchmaker", "grid-worker",
            "district-admin", "district-viewer", "supervisor")
STAFF_ROLES = VISITORS[2:]
PUBLIC = dict.fromkeys(VISITORS, "ok")
SIGNED_IN = {"anonymous": "sign-in", "kiosk": "sign-in", **dict.fromkeys(STAFF_ROLES, "ok")}
ACTING = {"anonymous": "forbidden", "kiosk": "ok", **dict.fromkeys(STAFF_ROLES, "ok")}
MODERATORS = {"anonymous": "sign-in", "kiosk": "sign-in", "admin": "ok", "moderator": "ok",
              "coordinator": "forbidden", "matchmaker": "forbidden"}
COORDINATORS = {"anonymous": "sign-in", "kiosk": "sign-in", "admin": "ok", "coordinator": "ok",
                "moderator": "forbidden", "matchmaker": "forbidden"}
MATCHMAKERS = {"anonymous": "sign-in", "kiosk": "sign-in", "admin": "ok", "matchmaker": "ok",
               "moderator": "forbidden", "coordinator": "forbidden"}
NOTICE_WRITERS = {"anonymous": "sign-in", "kiosk": "sign-in", "admin": "ok", "moderator": "ok", "coordinator": "ok",
                  "matchmaker": "forbidden"}
KIOSK_ONLY = {visitor: "ok" if visitor == "kiosk" else "forbidden" for visitor in VISITORS}
ADMIN_ONLY = {"anonymous": "sign-in", "kiosk": "sign-in", "admin": "ok",
              **{role: "forbidden" for role in STAFF_ROLES if role != "admin"}}

# A district admin may do everything in every community; a district viewer only reads the
# figures across communities (and whatever any signed-in member may).
# A grid worker works cases only; a supervisor reads overdue cases only.
for answers in (MODERATORS, COORDINATORS, MATCHMAKERS, NOTICE_WRITERS, ADMIN_ONLY):
    answers.update({"district-admin": "ok", "district-viewer": "forbidden", "grid-worker": "forbidden",
                    "supervisor": "forbidden"})
DISTRICT_ADMINS = {"anonymous": "sign-in", "kiosk": "sign-in", "district-admin": "ok",
                   **{role: "forbidden" for role in STAFF_ROLES if role != "district-admin"}}
DISTRICT_STAFF = {**DISTRICT_ADMINS, "district-viewer": "ok"}
# Cases: dispatchers (moderators) get the community's lists, grid workers and supervisors
# their own; a unit's inbox is for accounts of a unit (none of these visitors).
CASE_LISTS = {**MODERATORS, "grid-worker": "ok", "supervisor": "ok"}
GRID_WORKERS = {**MODERATORS, "moderator": "forbidden", "grid-worker": "ok"}
UNIT_STAFF = {"anonymous": "sign-in", "kiosk": "sign-in", **dict.fromkeys(STAFF_ROLES, "forbidden")}
SUPERVISORS = {**DISTRICT_ADMINS, "supervisor": "ok"}
# Household codes are issued at the desk: moderators and coordinators.
DESK_STAFF = {**MODERATORS, "coordinator": "ok"}
# A phone links itself to a household; a lobby kiosk is no household's.
NOT_KIOSKS = {**PUBLIC, "kiosk": "forbidden"}

# endpoint -> visitor -> expected answer. A new route must be added here, or this test fails.
EXPECTED = {
    "staff.switch_community": SIGNED_IN,
    "staff.community_settings": ADMIN_ONLY,
    "staff.save_community_settings": ADMIN_ONLY,
    "staff.district_home": DISTRICT_ADMINS,
    "staff.create_community": DISTRICT_ADMINS,
    "staff.rename_community": DISTRICT_ADMINS,
    "staff.assign_staff": DISTRICT_ADMINS,
    "staff.set_district_roles": DISTRICT_ADMINS,
    "staff.send_district_notice": DISTRICT_ADMINS,
    "staff.district_settings": DISTRICT_ADMINS,
    "staff.save_district_settings": DISTRICT_ADMINS,
    "staff.merge_communities": DISTRICT_ADMINS,
    "staff.export_community": DISTRICT_ADMINS,
    "staff.delete_community": DISTRICT_ADMINS,
    "staff.district_figures": DISTRICT_STAFF,
    "staff.district_figures_file": DISTRICT_STAFF,
    "static": PUBLIC,
    "home.index": PUBLIC,
    "kiosk.health": PUBLIC,
    "kiosk.set_language": PUBLIC,
    "kiosk.toggle_large_text": PUBLIC,
    "kiosk.pairing": PUBLIC,
    "kiosk.heartbeat": PUBLIC,
    "kiosk.reset": PUBLIC,
    "home.attract": PUBLIC,
    "kiosk.handoff_start": KIOSK_ONLY,
    "kiosk.handoff_state": KIOSK_ONLY,
    "kiosk.handoff_open": PUBLIC,
    "households.join": PUBLIC,
    "households.join_with_code": NOT_KIOSKS,
    "households.join_link": PUBLIC,
    "households.join_with_link": NOT_KIOSKS,
    # The first kind in the rule is a case's: the moderators'.
    "staff.share_card": MODERATORS,
    "staff.share_poster": MODERATORS,
    "staff.households_index": DESK_STAFF,
    "staff.issue_households": DESK_STAFF,
    "staff.household_card": DESK_STAFF,
    "staff.household_batch": DESK_STAFF,
    "staff.household_detail": DESK_STAFF,
    "staff.move_household": DESK_STAFF,
    "staff.confirm_new_household_card": DESK_STAFF,
    "staff.new_household_card": DESK_STAFF,
    "staff.confirm_revoke_household": DESK_STAFF,
    "staff.revoke_household": DESK_STAFF,
    "staff.revoke_household_phone": DESK_STAFF,
    "notices.urgent": PUBLIC,
    "notices.index": PUBLIC,
    "notices.show": PUBLIC,
    "staff.home": PUBLIC,
    "staff.sign_in": PUBLIC,
    "staff.sign_out": SIGNED_IN,
    "staff.nav_badges": SIGNED_IN,
    "staff.password_form": SIGNED_IN,
    "staff.change_password": SIGNED_IN,
    "staff.accounts": ADMIN_ONLY,
    "staff.create_account": ADMIN_ONLY,
    "staff.account": ADMIN_ONLY,
    "staff.edit_account": ADMIN_ONLY,
    "staff.confirm_account_enabled": ADMIN_ONLY,
    "staff.set_account_enabled": ADMIN_ONLY,
    "staff.confirm_reset_password": ADMIN_ONLY,
    "staff.reset_password": ADMIN_ONLY,
    "staff.kiosks": ADMIN_ONLY,
    "staff.enroll_kiosk": ADMIN_ONLY,
    "staff.rename_kiosk": ADMIN_ONLY,
    "staff.confirm_revoke_kiosk": ADMIN_ONLY,
    "staff.revoke_kiosk": ADMIN_ONLY,
    "staff.confirm_revoke_all_kiosks": ADMIN_ONLY,
    "staff.revoke_all_kiosks": ADMIN_ONLY,
    "staff.audit_log": ADMIN_ONLY,
    "staff.monthly_summary": COORDINATORS,
    "staff.monthly_summary_file": COORDINATORS,
    "staff.audit_file": ADMIN_ONLY,
    "staff.backups_index": ADMIN_ONLY,
    "staff.make_backup": ADMIN_ONLY,
    "staff.download_backup": ADMIN_ONLY,
    "wall.index": PUBLIC,
    "wall.live": PUBLIC,
    "wall.more": PUBLIC,
    "wall.new": PUBLIC,
    "wall.receipt": PUBLIC,
    "wall.report_form": PUBLIC,
    "wall.create": ACTING,
    "wall.report": ACTING,
    "staff.wall_queue": MODERATORS,
    "staff.moderate_post": MODERATORS,
    "staff.approve_many": MODERATORS,
    "cases.new": PUBLIC,
    "cases.similar": PUBLIC,
    "cases.receipt": PUBLIC,
    "cases.card": PUBLIC,
    "cases.create": ACTING,
    "cases.me_too": ACTING,
    "cases.check_back": ACTING,
    "staff.cases_index": CASE_LISTS,
    "staff.cases_mine": GRID_WORKERS,
    "staff.cases_unit": UNIT_STAFF,
    "staff.cases_overdue": SUPERVISORS,
    "staff.cases_digest": SIGNED_IN,
    "staff.cases_new": MODERATORS,
    "staff.cases_take_in": MODERATORS,
    "staff.case_page": SIGNED_IN,
    "staff.case_reveal": SIGNED_IN,
    "staff.case_act": SIGNED_IN,
    "staff.case_publish": MODERATORS,
    "staff.cases_settings": ADMIN_ONLY,
    "staff.cases_category_override": ADMIN_ONLY,
    "staff.cases_grid_add": ADMIN_ONLY,
    "staff.cases_grid_edit": ADMIN_ONLY,
    "staff.cases_grid_move": ADMIN_ONLY,
    "staff.cases_grid_confirm_remove": ADMIN_ONLY,
    "staff.cases_grid_remove": ADMIN_ONLY,
    "staff.cases_category_add": DISTRICT_ADMINS,
    "staff.cases_unit_add": DISTRICT_ADMINS,
    "staff.cases_unit_staff": DISTRICT_ADMINS,
    "staff.cases_calendar_day": DISTRICT_ADMINS,
    "staff.cases_calendar_remove": DISTRICT_ADMINS,
    "staff.cases_figures": MODERATORS,
    "staff.cases_figures_file": MODERATORS,
    "staff.wall_settings": MODERATORS,
    "staff.add_watched_word": MODERATORS,
    "staff.remove_watched_word": MODERATORS,
    "staff.set_kind_settings": MODERATORS,
    "staff.notices_index": NOTICE_WRITERS,
    "staff.new_notice": NOTICE_WRITERS,
    "staff.create_notice": NOTICE_WRITERS,
    "staff.edit_notice": NOTICE_WRITERS,
    "staff.update_notice": NOTICE_WRITERS,
    "staff.end_notice": NOTICE_WRITERS,
    "staff.delete_notice": NOTICE_WRITERS,
    "classes.index": PUBLIC,
    "classes.courses": PUBLIC,
    "classes.course": PUBLIC,
    "classes.seats": PUBLIC,
    "classes.live": PUBLIC,
    "classes.draw_record": PUBLIC,
    "classes.signup_form": PUBLIC,
    "classes.lookup": PUBLIC,
    "classes.survey": PUBLIC,
    # Cancelling and rating need the code (and the number's last digits), not a kiosk:
    # residents do them on their phones too.
    "classes.cancel": PUBLIC,
    "classes.rate": PUBLIC,
    "classes.sign_up": ACTING,
    "classes.answer_survey": ACTING,
    "experts.index": PUBLIC,
    "experts.expert": PUBLIC,
    "experts.ask_form": PUBLIC,
    "experts.receipt": PUBLIC,
    "experts.ask": ACTING,
    "staff.experts_index": COORDINATORS,
    "staff.add_skill": COORDINATORS,
    "staff.new_expert": COORDINATORS,
    "staff.create_expert": COORDINATORS,
    "staff.edit_expert": COORDINATORS,
    "staff.update_expert": COORDINATORS,
    "staff.expert_action": COORDINATORS,
    "staff.expert_requests_file": COORDINATORS,
    "staff.expert_requests": COORDINATORS,
    "staff.update_expert_request": COORDINATORS,
    "friends.index": PUBLIC,
    "friends.card": PUBLIC,
    "friends.new": PUBLIC,
    "friends.meet_form": PUBLIC,
    "friends.mine": PUBLIC,
    # With the card's code, from the kiosk or the resident's phone.
    "friends.renew": PUBLIC,
    "friends.withdraw": PUBLIC,
    "friends.edit": PUBLIC,
    "friends.answer": PUBLIC,
    "friends.create": ACTING,
    "friends.meet": ACTING,
    "staff.friends_cards": MATCHMAKERS,
    "staff.review_card": MATCHMAKERS,
    "staff.friends_requests": MATCHMAKERS,
    "staff.update_friends_request": MATCHMAKERS,
    "staff.friends_owner_contact": MATCHMAKERS,
    "staff.friends_contacts": MATCHMAKERS,
    "staff.classes_index": COORDINATORS,
    "staff.new_class": COORDINATORS,
    "staff.create_class": COORDINATORS,
    "staff.update_class": COORDINATORS,
    "staff.create_survey": COORDINATORS,
    "staff.edit_class": COORDINATORS,
    "staff.class_detail": COORDINATORS,
    "staff.set_class_status": COORDINATORS,
    "staff.confirm_draw_class": COORDINATORS,
    "staff.draw_class": COORDINATORS,
    "staff.close_class_entries": COORDINATORS,
    "staff.assisted_signup": COORDINATORS,
    "staff.signup_slip": COORDINATORS,
    "staff.move_signup": COORDINATORS,
    "staff.cancel_signup": COORDINATORS,
    "staff.mark_all_present": COORDINATORS,
    "staff.mark_attendance": COORDINATORS,
    "staff.print_roster": COORDINATORS,
    "staff.roster_file": COORDINATORS,
    "staff.survey_results_file": COORDINATORS,
    "staff.class_surveys": COORDINATORS,
    "staff.set_survey_state": COORDINATORS,
}


def classify(response) -> str:
    if response.status_code == 403:
        return "forbidden"
    if response.status_code == 401 or (
            response.status_code in (302, 303) and response.headers["Location"].startswith("/staff/?next=")):
        return "sign-in"
    if response.status_code == 401 or response.status_code >= 500:
        return f"status {response.status_code}"
    return "ok"


@pytest.fixture
def visitors(app, run_in_app):
    """A client per kind of visitor; staff ones signed in, the kiosk one enrolled."""
    # Id 1 of each table is a target for id-taking routes, never one of the visitors.
    assert run_in_app(staff_member, "target", "moderator") == 1
    assert run_in_app(enrolled_kiosk, "目标")[0] == 1
    assert run_in_app(add_notice, "目标通知", urgent=True, ends_at=utcnow() + timedelta(days=1)) == 1
    clients = {}
    for visitor in VISITORS:
        client = app.test_client()
        if visitor == "kiosk":
            _kiosk_id, token = run_in_app(enrolled_kiosk)
            client.set_cookie(DEVICE_COOKIE, token)
        elif visitor != "anonymous":
            run_in_app(staff_member, f"{visitor}1", visitor)
            response = client.post("/staff/sign-in", data={"username": f"{visitor}1", "password": STAFF_PASSWORD})
            assert response.status_code == 303
        clients[visitor] = client
    return clients


def _url(rule) -> str:
    values = {name: 1 if isinstance(conv, IntegerConverter) else "css/kiosk.css" if name == "filename"
              else sorted(conv.items)[0] if isinstance(conv, AnyConverter)
              else "main" if name == "community" else "csv" if name == "kind" else "x"
              for name, conv in rule._converters.items()}
    return rule.build(values)[1]


def test_every_route_answers_each_visitor_as_expected(app, visitors):
    # Signing out, starting over and revoking every kiosk go last: they end the visitors' sign-ins.
    last = ("staff.revoke_all_kiosks", "staff.sign_out", "kiosk.reset")
    rules = sorted(app.url_map.iter_rules(),
                   key=lambda rule: last.index(rule.endpoint) if rule.endpoint in last else -1)
    assert {rule.endpoint for rule in rules} == set(EXPECTED), "update EXPECTED for new or removed routes"
    mismatches = []
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for visitor in VISITORS:
                response = visitors[visitor].open(_url(rule), method=method, data={})
                answer = classify(response)
                response.close()
                if answer != EXPECTED[rule.endpoint][visitor]:
                    mismatches.append(f"{method} {rule.rule} as {visitor}: {answer}, "
                                      f"expected {EXPECTED[rule.endpoint][visitor]}")
    assert mismatches == []
