"""flask commands: `init` (what `make run` does before serving), `staff create`, `backup`, `restore`."""

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from . import backups
from .demo import load_demo_content
from .kiosk import devices
from .staff import services as staff
from .staff.models import DISTRICT_ROLES, ROLES

staff_cli = AppGroup("staff", help="Staff accounts.")


def community_option(command):
    return click.option("--community", "community_slug", default=None, metavar="SLUG",
                        help="The community to work in (default: the first).")(command)


def in_community(slug: str | None):
    """Work in the community with this slug, or the first; a clear error if there is none."""
    from sqlalchemy import select

    from .communities import scope
    from .communities.models import Community
    from .communities.routing import default_community_id
    from .extensions import db

    community_id = (db.session.scalar(select(Community.id).where(Community.slug == slug)) if slug
                    else default_community_id())
    if community_id is None:
        raise click.ClickException(f"No community goes by {slug!r}." if slug
                                   else "There is no community yet: run `flask init`.")
    return scope.within(community_id)


@staff_cli.command("create")
@click.argument("username")
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLES + DISTRICT_ROLES), default=("admin",),
              show_default=True, help="Repeat for several roles.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@community_option
def create_staff_command(username, roles, password_stdin, community_slug):
    """Create a staff account with roles in one community (district roles: across them);
    a password is generated unless one is piped in."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else staff.generate_password()
    try:
        with in_community(community_slug):
            staff.create_staff(username, password, roles=roles)
    except staff.StaffError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created {username} ({', '.join(roles)}).")
    if not password_stdin:
        click.echo(f"Password (shown once): {password}")


@click.command("init")
@with_appcontext
@click.option("--demo/--no-demo", default=True, show_default=True,
              help="Load demo content into a new database.")
@click.option("--admin", "admin_name", default="admin", show_default=True,
              help="Username of the first admin, created when there is none.")
def init_command(demo, admin_name):
    """Create or upgrade the database; on the first start add demo content and the first admin."""
    from flask_migrate import upgrade

    upgrade()
    if demo and load_demo_content():
        click.echo("Loaded demo content.")
    if not staff.any_admin():
        password = staff.generate_password()
        # The first account runs the platform: it may add communities and staff.
        with in_community(None):
            staff.create_staff(admin_name, password, roles=("admin", "district-admin"))
        click.echo("")
        click.echo("  First admin account — the password is shown only this once:")
        click.echo(f"    username: {admin_name}")
        click.echo(f"    password: {password}")
        click.echo("")



@click.command("housekeeping")
@with_appcontext
def housekeeping_command():
    """Draw due lotteries, move courses to running or finished, delete expired personal data."""
    from . import housekeeping

    done = housekeeping.run()
    click.echo(", ".join(f"{name}: {count}" for name, count in done.items()))


@click.command("seed")
@with_appcontext
@click.option("--posts", type=click.IntRange(0), default=0, help="Approved wall posts.")
@click.option("--courses", type=click.IntRange(0), default=0, help="This term's courses, open for sign-up.")
@click.option("--experts", type=click.IntRange(0), default=0, help="Listed experts.")
@click.option("--cards", type=click.IntRange(0), default=0, help="Approved friends cards.")
@click.option("--seed", "seed_value", type=int, default=1, show_default=True, help="The same seed, the same content.")
@community_option
def seed_command(posts, courses, experts, cards, seed_value, community_slug):
    """Add generated bilingual content of any size (for benchmarks and trials), on top of
    what the database holds."""
    import time

    from .seed import seed

    started = time.perf_counter()
    with in_community(community_slug):
        seed(posts, courses, experts, cards, seed_value=seed_value)
    click.echo(f"Added {posts} posts, {courses} courses, {experts} experts, {cards} cards "
               f"in {time.perf_counter() - started:.1f} s.")


@click.command("backup")
@with_appcontext
@click.option("--to", "target", type=click.Path(path_type=Path),
              help="A new file, or a folder, for the backup. Default: instance/backups/.")
def backup_command(target):
    """Write a consistent copy of the live database while the server keeps running: SQLite
    through VACUUM INTO (checked with PRAGMA integrity_check), PostgreSQL through pg_dump.
    Files are named by the time in UTC (linli-YYYYMMDD-HHMMSS.db) and never overwritten."""
    try:
        made = backups.make_backup(target)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backup written: {made.path} ({made.size:,} bytes, {made.seconds:.2f} s)")


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database.")
def restore_command(path, yes):
    """Replace the database with the backup at PATH. STOP THE SERVER FIRST (e.g. `systemctl
    stop linli`) and start it again afterwards. A safety copy of the current database goes to
    instance/backups/before-restore-…; an older backup is migrated up to this version."""
    try:
        revision = backups.check_backup(path)
        if not yes:
            click.echo("The server must be stopped while restoring (e.g. systemctl stop linli).")
            click.confirm(f"Replace the current database with {path} (revision {revision})?", abort=True)
        restored = backups.restore(path)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    if restored.safety_copy:
        click.echo(f"Safety copy of the database as it was: {restored.safety_copy}")
    click.echo(f"Restored {path} (revision {restored.revision}); the database is now at {restored.head}.")
    click.echo("Start the server again.")


community_cli = AppGroup("community", help="Communities on this platform.")


@community_cli.command("create")
@click.argument("slug")
@click.argument("name")
@click.option("--name-en", default="", help="The name in English.")
def create_community_command(slug, name, name_en):
    """Add a community: its pages are /c/SLUG/."""
    from .communities import services as communities

    try:
        communities.create_community(slug, name, name_en)
    except communities.CommunityError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created {name} at /c/{slug}/.")


@community_cli.command("list")
def list_communities_command():
    """Every community: id, slug, name."""
    from .communities import services as communities

    for community in communities.communities():
        click.echo(f"{community.id}\t{community.slug}\t{community.name}")


kiosk_cli = AppGroup("kiosk", help="Kiosk devices.")


@kiosk_cli.command("enroll")
@click.argument("code")
@click.option("--name", required=True, help='Where the kiosk stands, e.g. "Lobby, left".')
@community_option
def enroll_kiosk_command(code, name, community_slug):
    """Enroll the screen showing pairing CODE into a community; it becomes a kiosk on its next poll."""
    try:
        with in_community(community_slug):
            kiosk_id = devices.enroll(code, name)
    except devices.DeviceError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Kiosk #{kiosk_id} ({name}) enrolled; the screen picks it up within seconds.")


def init_app(app: Flask) -> None:
    app.cli.add_command(init_command)
    app.cli.add_command(housekeeping_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(seed_command)
    app.cli.add_command(staff_cli)
    app.cli.add_command(kiosk_cli)
    app.cli.add_command(community_cli)
