from flask import redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import login
from . import bp, services
from .forms import SignInForm, SignOutForm


@login.user_loader
def load_user(member_id: str):
    return services.load_member(member_id)


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return render_template("staff/sign_in.html", form=SignInForm())
    return render_template("staff/home.html", sign_out_form=SignOutForm())


@bp.post("/sign-in")
def sign_in():
    form = SignInForm()
    if form.validate_on_submit():
        member = services.authenticate(form.username.data, form.password.data)
        if member is not None:
            login_user(member)
            return redirect(url_for("staff.home"), code=303)
        form.password.errors.append(_("That username and password do not match."))
    return render_template("staff/sign_in.html", form=form), 422


@bp.post("/sign-out")
@login_required
def sign_out():
    if SignOutForm().validate_on_submit():
        logout_user()
    return redirect(url_for("staff.home"), code=303)
