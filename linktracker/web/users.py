"""User accounts for admins: create with a role, reset a password, deactivate."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from linktracker.auth.roles import ADMINS
from linktracker.auth.services import (
    create_user,
    get_user,
    list_users,
    set_password,
    set_user_active,
)
from linktracker.errors import DomainError, Forbidden
from linktracker.web.context import db, identity, require_roles
from linktracker.web.forms import PasswordResetForm, UserForm, render_form, show_errors

users = Blueprint("users", __name__, url_prefix="/app/users")


@users.route("/", methods=["GET", "POST"])
@require_roles(*ADMINS)
def index() -> str | BaseResponse:
    form = UserForm()
    error = None
    if form.validate_on_submit():
        try:
            user = create_user(
                db(), form.email.data or "", form.role.data or "", form.password.data or ""
            )
        except DomainError as exc:
            error = show_errors(form, exc)
        else:
            linked = " and linked to their employee profile" if user.employee_id else ""
            flash(f"User {user.email} created as {user.role}{linked}.", "success")
            return redirect(url_for("users.index"))
    return render_form("users/index.html", form=form, rows=list_users(db()), error=error)


@users.route("/<int:user_id>/password", methods=["GET", "POST"])
@require_roles(*ADMINS)
def reset_password(user_id: int) -> str | BaseResponse:
    user = get_user(db(), user_id)
    form = PasswordResetForm()
    error = None
    if form.validate_on_submit():
        try:
            set_password(db(), user.id, form.password.data or "")
        except DomainError as exc:
            error = show_errors(form, exc)
        else:
            flash(f"New password set for {user.email}; their other sessions have ended.", "success")
            return redirect(url_for("users.index"))
    return render_form("users/password.html", form=form, user=user, error=error)


@users.post("/<int:user_id>/active")
@require_roles(*ADMINS)
def set_active(user_id: int) -> BaseResponse:
    who = identity()
    assert who is not None
    if who.user_id == user_id:
        raise Forbidden("You cannot deactivate your own account.")
    active = request.form.get("active") == "1"
    user = set_user_active(db(), user_id, active)
    flash(f"{user.email} {'reactivated' if active else 'deactivated and signed out'}.", "success")
    return redirect(url_for("users.index"))
