"""The home screen's tiles: one per board, shown once that board's blueprint exists."""

from dataclasses import dataclass

from flask import current_app

from ..i18n import lazy_gettext as _l


@dataclass(frozen=True)
class Tile:
    endpoint: str
    icon: str
    label: object
    hint: object


TILES = (
    Tile("wall.index", "wall", _l("Message wall"), _l("Wishes, thanks and problems")),
    Tile("cases.new", "problem", _l("Report a problem"), _l("Followed until it is fixed")),
    Tile("classes.index", "classes", _l("Classes"), _l("Timetable and sign-up")),
    Tile("experts.index", "experts", _l("Expert directory"), _l("Neighbours who can help")),
    Tile("friends.index", "friends", _l("Make friends"), _l("Community matchmaker")),
    Tile("notices.index", "notices", _l("Notices"), _l("News from the committee")),
)


def available_tiles() -> list[Tile]:
    return [tile for tile in TILES if tile.endpoint in current_app.view_functions]
