from datetime import datetime, timedelta

from app.notices import services


def test_current_notices_window_order_and_language(run_in_app):
    now = datetime(2026, 11, 25, 12, 0)

    def add(title, **kw):
        return run_in_app(services.add_notice, title, "正文", **kw)

    old = add("旧通知", starts_at=now - timedelta(days=2))
    new = add("新通知", title_en="New notice", body_en="Body", starts_at=now - timedelta(hours=1))
    urgent = add("紧急通知", urgent=True, starts_at=now - timedelta(days=5), ends_at=now + timedelta(hours=1))
    add("已结束", starts_at=now - timedelta(days=5), ends_at=now)
    add("未开始", starts_at=now + timedelta(minutes=1))

    shown = run_in_app(services.current_notices, "zh_Hans", now=now)
    assert [n.id for n in shown] == [urgent, new, old]
    assert ([n.title for n in run_in_app(services.current_notices, "en", now=now)]
            == ["紧急通知", "New notice", "旧通知"])
    assert [n.id for n in run_in_app(services.current_notices, "en", limit=2, now=now)] == [urgent, new]
    assert run_in_app(services.showing_notice, new, "en", now=now).body == "Body"
    assert run_in_app(services.showing_notice, new, "zh_Hans", now=now + timedelta(days=400)).title == "新通知"
    assert run_in_app(services.showing_notice, urgent, "zh_Hans", now=now + timedelta(hours=2)) is None
