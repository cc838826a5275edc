"""Rosters for staff, attendance at each meeting, and moves on the waitlist."""

from sqlalchemy import case, delete, select, update

from ... import audit
from ...clock import to_site
from ...exports import Table
from ...extensions import db
from ...i18n import lazy_gettext as _l
from ..labels import SOURCE_LABELS, STATE_LABELS
from ..models import Attendance, Course, Meeting, Signup
from .common import ClassError, staff_reason
from .signups import SIGNUP_ACTIONS, allowed_or_refused, waitlist


def roster(course_id: int) -> list[Signup]:
    """Everyone with a seat, in the order they got it, then the waitlist, then entries."""
    order = case((Signup.state == "confirmed", 0), (Signup.state == "waitlisted", 1), (Signup.state == "entered", 2),
                 else_=3)
    return list(db.session.scalars(select(Signup).where(Signup.course_id == course_id, Signup.state != "cancelled")
                                   .order_by(order, Signup.queue_key, Signup.id)))


def record_roster_view(course: Course, what: str) -> None:
    """Staff saw sign-ups' names (and numbers): the audit log says who, when and which."""
    audit.record("classes", f"roster-{what}", course, {"title": course.title})
    db.session.commit()


# A roll's marks: present, absent, or (no row) not marked yet.
MARKS = ("present", "absent", "unmarked")


def attendance(course_id: int) -> dict[tuple[int, int], bool]:
    """Each (meeting, sign-up) marked so far: True present, False absent."""
    rows = db.session.execute(select(Attendance.session_id, Attendance.signup_id, Attendance.present)
                              .join(Meeting, Meeting.id == Attendance.session_id)
                              .where(Meeting.course_id == course_id))
    return {(meeting, signup): present for meeting, signup, present in rows}


def _mark(meeting_id: int, signup_id: int, mark: str, staff_id: int | None) -> None:
    db.session.execute(delete(Attendance).where(Attendance.session_id == meeting_id, Attendance.signup_id == signup_id))
    if mark != "unmarked":
        db.session.add(Attendance(session_id=meeting_id, signup_id=signup_id, present=mark == "present",
                                  marked_by=staff_id))


def set_attendance(meeting_id: int, signup_id: int, mark: str, staff_id: int | None) -> str:
    """Mark one person at one meeting: "present", "absent" or back to "unmarked"."""
    meeting = db.session.get(Meeting, meeting_id)
    signup = db.session.get(Signup, signup_id)
    if meeting is None or signup is None or signup.course_id != meeting.course_id or mark not in MARKS:
        raise ClassError(SIGNUP_ACTIONS["attendance"].refusal, "meeting")
    allowed_or_refused("attendance", signup, "attendance")
    _mark(meeting_id, signup_id, mark, staff_id)
    db.session.commit()
    return mark


def get_meeting(meeting_id: int) -> Meeting | None:
    return db.session.get(Meeting, meeting_id)


def mark_all_present(meeting_id: int, staff_id: int | None) -> int:
    """Everyone with a seat not marked yet at this meeting is marked present; those marked
    absent stay absent. How many were marked."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise ClassError(SIGNUP_ACTIONS["attendance"].refusal, "meeting")
    marked = {signup for (held, signup) in attendance(meeting.course_id) if held == meeting_id}
    seated = [signup for signup in roster(meeting.course_id) if signup.state == "confirmed" and signup.id not in marked]
    for signup in seated:
        _mark(meeting_id, signup.id, "present", staff_id)
    db.session.commit()
    return len(seated)


def move_on_waitlist(signup_id: int, position: int, reason: str) -> list[Signup]:
    """Put someone at another place on the waitlist; only with a written reason (audited)."""
    reason = staff_reason(reason)
    if len(reason) < 4:
        raise ClassError(_l("Please write why this person moves (at least 4 characters)."), "reason")
    signup = db.session.get(Signup, signup_id)
    if signup is None:
        raise ClassError(SIGNUP_ACTIONS["move"].refusal, "position")
    # Lock the course row so a concurrent sign-up or promotion waits for the move; then
    # read the state again: a promotion just before may have given them a seat.
    db.session.execute(update(Course).where(Course.id == signup.course_id).values(revision=Course.revision + 1))
    db.session.refresh(signup)
    allowed_or_refused("move", signup, "position")
    line = waitlist(signup.course_id)
    if not 1 <= position <= len(line):
        raise ClassError(_l("Choose a place between 1 and %(n)d.", n=len(line)), "position")
    before = line.index(signup) + 1
    keys = sorted((entry.queue_key, entry.id) for entry in line)
    line.remove(signup)
    line.insert(position - 1, signup)
    # The same keys, handed out in the new order: later arrivals still queue behind.
    for entry, (key, _id) in zip(line, keys):
        entry.queue_key = key
    # Ties in queue_key are broken by id; give each a distinct key so the order is exact.
    for index in range(1, len(line)):
        if line[index].queue_key <= line[index - 1].queue_key:
            line[index].queue_key = line[index - 1].queue_key + 1
    audit.record("classes", "waitlist-moved", signup, {"from": before, "to": position, "reason": reason})
    db.session.commit()
    return line


_MARK_SHOWN = {True: "✓", False: "✗", None: ""}


def roster_table(course: Course) -> Table:
    """The roster as a table for staff to take away (full names and numbers; the caller
    audits the export): a row per sign-up, a column per meeting ticked where present.
    Headers and values in the console's language; codes stay text."""
    meetings = course.meetings
    present = attendance(course.id)
    table = Table(_l("Roster"), [
        _l("Code"), _l("Resident's name"), _l("Mobile"), _l("State"), _l("Source"), _l("Place in line"),
        _l("Signed up at"), *[to_site(m.starts_at).strftime("%Y-%m-%d %H:%M") for m in meetings]])
    position = 0
    for signup in roster(course.id):
        if signup.state == "waitlisted":
            position += 1
        table.rows.append([
            signup.code, signup.name or "", signup.mobile or "", str(STATE_LABELS[signup.state]),
            str(SOURCE_LABELS[signup.source]), position if signup.state == "waitlisted" else None,
            to_site(signup.created_at).strftime("%Y-%m-%d %H:%M:%S"),
            *[_MARK_SHOWN[present.get((m.id, signup.id))] for m in meetings]])
    return table


