"""Sign-up, sign-in and profile forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, EqualTo, Length, Optional

from marketplace.forms import Form


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Remember me on this device"))


class RegisterForm(Form):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    phone = StringField(_l("Phone / WhatsApp (optional)"), validators=[Optional(), Length(max=30)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=200)])
    confirm = PasswordField(
        _l("Repeat the password"), validators=[DataRequired(), EqualTo("password", _l("The passwords differ."))]
    )


class ProfileForm(Form):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    phone = StringField(_l("Phone / WhatsApp"), validators=[Optional(), Length(max=30)])
    locale = SelectField(
        _l("Language"),
        choices=[
            SelectChoice("", _l("Automatic")),
            SelectChoice("id", "Bahasa Indonesia"),
            SelectChoice("en", "English"),
        ],
    )


class PasswordForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=200)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", _l("The passwords differ."))],
    )


class OrderTakerForm(Form):
    company_name = StringField(_l("Company name"), validators=[DataRequired(), Length(max=160)])
    business_field = StringField(_l("Line of business"), validators=[Optional(), Length(max=160)])
    npwp = StringField(_l("NPWP (tax number)"), validators=[Optional(), Length(max=25)])
    address = TextAreaField(_l("Address"), validators=[Optional(), Length(max=500)])
    province_code = SelectField(_l("Province"), choices=[], validate_choice=False)
    website = StringField(
        _l("Website"),
        validators=[Optional(), Length(max=200),
                    URL(require_tld=True, message=_l("Enter a full web address, e.g. https://www.example.co.id"))],
    )


class ResetRequestForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])


class ResetPasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=200)])
    confirm = PasswordField(
        _l("Repeat the new password"), validators=[DataRequired(), EqualTo("password", _l("The passwords differ."))]
    )
