"""What templates read for each area's codes, in two namespaces registered here and only here.

`labels.<area>.<name>` holds what residents and staff read for a stored code (a mapping from
code to lazily translated text, e.g. ``labels.wall.kind[post.kind]``) and the choices a form
or filter offers, in their order (``labels.wall.kinds``). `rules.<area>.<name>` holds the
area's predicates that decide what a page shows (``rules.classes.phase(course, now)``,
``rules.classes.signup_actions(signup)``): the services' own functions, so that a page never
restates a rule.

Each area keeps its texts in its own labels module and its rules in its services; this
module only gathers them, so that one name never means two things in a template.
"""

from types import SimpleNamespace as _namespace


def init_app(app) -> None:
    from .cases import labels as case_labels, models as case_models, services as cases
    from .classes import labels as class_labels, models as class_models, services as classes
    from .experts import labels as expert_labels, models as expert_models, services as experts
    from .friends import labels as friend_labels, models as friend_models, services as friends
    from .staff import labels as staff_labels
    from .wall import labels as wall_labels, models as wall_models, services as wall

    labels = _namespace(
        staff=_namespace(
            role=staff_labels.ROLE_NAMES,
            roles=staff_labels.roles,
            area=staff_labels.AREA_LABELS,
            actor_kind=staff_labels.ACTOR_KINDS,
            action=staff_labels.action,
            target=staff_labels.target,
            table=staff_labels.TARGET_LABELS,
            code_kind=staff_labels.CODE_KIND_LABELS,
            detail=staff_labels.detail,
            page=staff_labels.page,
        ),
        wall=_namespace(
            kinds=wall_models.KINDS,
            kind=wall_labels.KIND_LABELS,
            reason=wall_labels.REASON_LABELS,
            state=wall_labels.STATE_LABELS,
        ),
        cases=_namespace(
            state=case_labels.STATE_LABELS,
            public_state=case_labels.PUBLIC_STATE_LABELS,
            channels=case_models.CHANNELS,
            staff_channels=case_models.STAFF_CHANNELS,
            channel=case_labels.CHANNEL_LABELS,
            levels=case_models.HANDLER_LEVELS,
            level=case_labels.LEVEL_LABELS,
            unit_kind=case_labels.UNIT_KIND_LABELS,
            close_reasons=case_models.CLOSE_REASONS,
            close=case_labels.CLOSE_LABELS,
            satisfactions=case_models.SATISFACTION,
            satisfaction=case_labels.SATISFACTION_LABELS,
            event=case_labels.EVENT_LABELS,
            action=case_labels.ACTION_LABELS,
            lists=cases.LISTS,
            list=case_labels.LIST_LABELS,
        ),
        classes=_namespace(
            categories=class_models.CATEGORIES,
            category=class_labels.CATEGORY_LABELS,
            phase=class_labels.PHASE_LABELS,
            mode=class_labels.MODE_LABELS,
            signup_state=class_labels.STATE_LABELS,
            source=class_labels.SOURCE_LABELS,
            weekday=class_labels.WEEKDAY_LABELS,
        ),
        experts=_namespace(
            categories=expert_models.CATEGORIES,
            category=expert_labels.CATEGORY_LABELS,
            need=expert_labels.NEED_LABELS,
            request_state=expert_labels.REQUEST_STATE_LABELS,
            inbox={"open": expert_labels.OPEN_REQUESTS, **expert_labels.REQUEST_STATE_LABELS},
        ),
        friends=_namespace(
            genders=friend_models.GENDERS,
            looking_fors=friend_models.LOOKING_FOR,
            age_bands=friend_models.AGE_BANDS,
            interests=friend_models.INTERESTS,
            gender=friend_labels.GENDER_LABELS,
            looking=friend_labels.LOOKING_LABELS,
            interest=friend_labels.INTEREST_LABELS,
            card_state=friend_labels.CARD_STATE_LABELS,
            interest_state=friend_labels.INTEREST_STATE_LABELS,
            tally=friend_labels.TALLY_LABELS,
            age=friend_labels.age_label,
        ),
    )
    rules = _namespace(
        cases=_namespace(
            by_post=cases.by_post,
            actions=cases.actions_for,
        ),
        wall=_namespace(
            post_actions=wall.allowed_actions,
        ),
        classes=_namespace(
            phase=classes.phase,
            seats_left=classes.seats_left,
            signup_actions=classes.allowed_actions,
        ),
        friends=_namespace(
            card_actions=friends.card_actions,
            interest_actions=friends.interest_actions,
        ),
        experts=_namespace(
            request_actions=experts.allowed_actions,
        ),
    )
    app.jinja_env.globals.update(labels=labels, rules=rules)
