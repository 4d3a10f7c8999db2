"""Sign-up, sign-in, sign-out and the profile page."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from marketplace import regions
from marketplace.auth import bp, services
from marketplace.auth.forms import LoginForm, OrderTakerForm, PasswordForm, ProfileForm, RegisterForm
from marketplace.catalog.services import kubes_of_member
from marketplace.common import DomainError
from marketplace.web import db_session, reject_form, safe_next


def _safe_next(default: str) -> str:
    """Only redirect to a path on this site (no open redirects)."""
    return safe_next(request.args.get("next"), default)


def _start_session(user: services.User, remember: bool) -> None:
    lang = session.get("lang")
    cart = session.get("guest_cart")  # a guest's cart joins the account (marketplace/orders/views.py)
    session.clear()  # a fresh session on sign-in: nothing else from before carries over (session fixation)
    if lang:
        session["lang"] = lang
    if cart:
        session["guest_cart"] = cart
    login_user(user, remember=remember)


@bp.route("/auth/login", methods=["GET", "POST"])
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(_safe_next(url_for("catalog.home")))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(db_session(), form.email.data or "", form.password.data or "")
        if user is None:
            form.form_errors.append(_("Wrong e-mail or password."))
        else:
            db_session().commit()
            _start_session(user, bool(form.remember.data))
            flash(_("Welcome back, %(name)s.", name=user.name), "success")
            return redirect(_safe_next(url_for("catalog.home")))
    return render_template("auth/login.html", form=form)


@bp.route("/auth/register", methods=["GET", "POST"])
def register() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("catalog.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.register_user(
                db_session(),
                email=form.email.data or "",
                password=form.password.data or "",
                name=form.name.data or "",
                phone=form.phone.data,
            )
        except DomainError as error:
            reject_form(form, error)
        else:
            db_session().commit()
            _start_session(user, remember=False)
            flash(_("Your account is ready. Selamat berbelanja!"), "success")
            return redirect(_safe_next(url_for("catalog.home")))
    return render_template("auth/register.html", form=form)


@bp.route("/auth/logout", methods=["POST"])
def logout() -> Response:
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You are signed out."), "info")
    return redirect(url_for("catalog.home"))


@bp.route("/auth/profile", methods=["GET", "POST"])
@login_required
def profile() -> str | Response:
    user = current_user._get_current_object()
    form = ProfileForm(obj=user, prefix="profile")
    password_form = PasswordForm(prefix="password")
    company_form = OrderTakerForm(obj=user.order_taker_profile, prefix="company")
    company_form.province_code.choices = [SelectChoice("", "—")] + [
        SelectChoice(r.code, r.name) for r in regions.provinces()
    ]
    action = request.form.get("action")
    if request.method == "POST":
        forms: dict[str, FlaskForm] = {"profile": form, "password": password_form, "company": company_form}
        chosen = forms.get(action or "")
        if chosen is not None and chosen.validate_on_submit():
            try:
                if chosen is form:
                    services.update_profile(
                        db_session(), user,
                        services.ProfileInput(name=form.name.data or "", phone=form.phone.data,
                                              locale=form.locale.data or None),
                    )
                    session.pop("lang", None)  # the saved preference wins from now on
                    message = _("Profile saved.")
                elif chosen is password_form:
                    services.change_password(db_session(), user, password_form.current_password.data or "",
                                             password_form.new_password.data or "")
                    message = _("Password changed. Other devices are signed out.")
                else:
                    services.save_order_taker_profile(
                        db_session(), user,
                        services.OrderTakerInput(
                            company_name=company_form.company_name.data or "",
                            business_field=company_form.business_field.data or "",
                            npwp=company_form.npwp.data, address=company_form.address.data or "",
                            province_code=company_form.province_code.data or None,
                            website=company_form.website.data,
                        ),
                    )
                    message = _("Company profile saved.")
            except DomainError as error:
                reject_form(chosen, error)
            else:
                db_session().commit()
                if chosen is password_form:
                    login_user(user)  # this device stays signed in with the new auth version
                flash(message, "success")
                return redirect(url_for("auth.profile"))
    memberships = kubes_of_member(db_session(), user)
    return render_template("auth/profile.html", form=form, password_form=password_form,
                           company_form=company_form, memberships=memberships, user=user)
