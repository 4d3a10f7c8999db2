"""Sign-up, sign-in, sign-out and the profile page."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from marketplace import regions
from marketplace.auth import bp, services
from marketplace.auth.forms import (
    LoginForm,
    OrderTakerForm,
    PasswordForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from marketplace.auth.messages import locked_message, send_password_reset
from marketplace.catalog.services import kubes_of_member
from marketplace.common import DomainError
from marketplace.i18n import error_text
from marketplace.mail import MailError
from marketplace.ratelimits import post_limit
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
@post_limit("SIGNIN")
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(_safe_next(url_for("catalog.home")))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(db_session(), form.email.data or "", form.password.data or "",
                                         policy=services.LockoutPolicy.from_config(current_app.config))
        except services.AccountLocked as locked:
            db_session().commit()  # the failure that locked the account counts
            form.form_errors.append(locked_message(locked))
            return render_template("auth/login.html", form=form)
        if user is None:
            db_session().commit()  # failed attempts count towards the lockout
            form.form_errors.append(_("Wrong e-mail or password."))
        else:
            db_session().commit()
            _start_session(user, bool(form.remember.data))
            flash(_("Welcome back, %(name)s.", name=user.name), "success")
            return redirect(_safe_next(url_for("catalog.home")))
    return render_template("auth/login.html", form=form)


@bp.route("/auth/register", methods=["GET", "POST"])
@post_limit("SIGNUP")
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


def _reset_max_age() -> timedelta:
    return timedelta(minutes=int(current_app.config["PASSWORD_RESET_MINUTES"]))


@bp.route("/auth/reset", methods=["GET", "POST"])
@post_limit("PASSWORD_RESET")
def reset_request() -> str | Response:
    """"Forgot password?": the same answer whether or not the address has an account."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = services.user_for_password_reset(db_session(), form.email.data or "")
        if user is not None:
            token = services.password_reset_token(user, secret_key=current_app.config["SECRET_KEY"])
            try:
                send_password_reset(user, token)
            except MailError:
                current_app.logger.exception("The password reset mail to user %s could not be sent", user.id)
        flash(_("If an account exists for %(email)s, we have sent it a link to choose a new password. "
                "Check your inbox (and the spam folder).", email=form.email.data), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form)


@bp.route("/auth/reset/<token>", methods=["GET", "POST"])
@post_limit("PASSWORD_RESET")
def reset_password(token: str) -> str | Response | tuple[str, int]:
    secret, max_age = current_app.config["SECRET_KEY"], _reset_max_age()
    try:
        user = services.user_for_reset_token(db_session(), token, secret_key=secret, max_age=max_age)
    except DomainError as error:
        form_link = url_for("auth.reset_request")
        return render_template("auth/reset_invalid.html", message=error_text(error), form_link=form_link), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(db_session(), token, form.password.data or "", secret_key=secret,
                                    max_age=max_age)
        except DomainError as error:
            reject_form(form, error)
        else:
            db_session().commit()
            _start_session(user, remember=False)
            flash(_("Your new password is saved and you are signed in. Other devices are signed out."), "success")
            return redirect(url_for("catalog.home"))
    return render_template("auth/reset_password.html", form=form, user=user)


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
