"""Transition tables: for each stateful record, which actions each state allows and the
state each action leads to.

Every area's service keeps its record's table next to the rules that use it. The service
refuses an action the record's state does not allow (with the table's message), and makes
the state change a conditional UPDATE on the allowed states, so that a change made
meanwhile by someone else is never overwritten. Templates show an action's button only
when the same table allows it.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import update

from .extensions import db
from .i18n import lazy_gettext as _l

# A record that another person changed between the page and the tap.
CHANGED_MEANWHILE = _l("This was changed in the meantime. Please look at it again.")


@dataclass(frozen=True)
class Transition:
    """One action: the states it is allowed from, and what it leads to."""

    from_states: frozenset[str]
    # The state the record is in afterwards; None: it stays in the state it was in.
    to: str | None = None
    # What the person who tried reads when the record's state does not allow the action.
    refusal: str = CHANGED_MEANWHILE
    # The action deletes the record, with its personal data.
    deletes: bool = False


def transition(from_states: Iterable[str], to: str | None = None, *, refusal=CHANGED_MEANWHILE,
               deletes: bool = False) -> Transition:
    return Transition(frozenset(from_states), to, refusal, deletes)


def allowed(table: Mapping[str, Transition], state: str) -> frozenset[str]:
    """The actions the table allows from this state."""
    return frozenset(action for action, rule in table.items() if state in rule.from_states)


def require(rule: Transition, state: str, refused: type[Exception], field: str) -> Transition:
    """The rule, when the record's state allows it; otherwise the transaction is rolled back
    and `refused` (the area's Refused) raised with the rule's message, on `field`."""
    if state not in rule.from_states:
        db.session.rollback()
        raise refused(rule.refusal, field)
    return rule


def apply(model, record_id: int, rule: Transition, refused: type[Exception], field: str, **values):
    """Make the rule's change (change_state) and give the record as it now is; refused as
    require() is when the record's state no longer allows it. The caller audits and commits."""
    if not change_state(model, record_id, rule, **values):
        db.session.rollback()
        raise refused(rule.refusal, field)
    return db.session.get(model, record_id, populate_existing=True)


def change_state(model, record_id: int, rule: Transition, **values) -> bool:
    """UPDATE the record, with the rule's new state, only while it is in one of the rule's
    states; False when it was not (nothing changed). The caller audits and commits."""
    if rule.to is not None:
        values["state"] = rule.to
    result = db.session.execute(update(model).where(model.id == record_id, model.state.in_(rule.from_states))
                                .values(**values))
    return result.rowcount == 1
