"""flask commands: `init` (what `make run` does before serving) and `staff create`."""

import sys

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade

from .demo import load_demo_content
from .kiosk import devices
from .staff import services as staff
from .staff.models import ROLES

staff_cli = AppGroup("staff", help="Staff accounts.")


@staff_cli.command("create")
@click.argument("username")
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLES), default=("admin",),
              show_default=True, help="Repeat for several roles.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_staff_command(username, roles, password_stdin):
    """Create a staff account; a password is generated unless one is piped in."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else staff.generate_password()
    try:
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
    upgrade()
    if demo and load_demo_content():
        click.echo("Loaded demo content.")
    if not staff.any_admin():
        password = staff.generate_password()
        staff.create_staff(admin_name, password, roles=("admin",))
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


kiosk_cli = AppGroup("kiosk", help="Kiosk devices.")


@kiosk_cli.command("enroll")
@click.argument("code")
@click.option("--name", required=True, help='Where the kiosk stands, e.g. "Lobby, left".')
def enroll_kiosk_command(code, name):
    """Enroll the screen showing pairing CODE; it becomes a kiosk on its next poll."""
    try:
        kiosk_id = devices.enroll(code, name)
    except devices.DeviceError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Kiosk #{kiosk_id} ({name}) enrolled; the screen picks it up within seconds.")


def init_app(app: Flask) -> None:
    app.cli.add_command(init_command)
    app.cli.add_command(housekeeping_command)
    app.cli.add_command(staff_cli)
    app.cli.add_command(kiosk_cli)
