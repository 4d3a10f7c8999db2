"""The base of every form: WTForms' own messages ("This field is required.") in the page's language.

WTForms ships no Indonesian catalogue, so its messages are listed here, extracted into ours and
looked up through Flask-Babel like every other string.
"""

from __future__ import annotations

from typing import Any

from flask_babel import get_translations
from flask_wtf import FlaskForm

from marketplace.common import N_, NP_

# The WTForms messages our fields and validators can show (wtforms/locale/wtforms.pot).
WTFORMS_MESSAGES = (
    N_("This field is required."),
    N_("Field must be between %(min)d and %(max)d characters long."),
    NP_("Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long."),
    NP_("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters."),
    NP_("Field must be exactly %(max)d character long.", "Field must be exactly %(max)d characters long."),
    N_("Field must be equal to %(other_name)s."),
    N_("Number must be at least %(min)s."),
    N_("Number must be at most %(max)s."),
    N_("Number must be between %(min)s and %(max)s."),
    N_("Invalid input."),
    N_("Invalid email address."),
    N_("Invalid URL."),
    N_("Invalid Choice: could not coerce."),
    N_("Not a valid choice."),
    N_("Not a valid date value."),
    N_("Not a valid integer value."),
    N_("Not a valid decimal value."),
)


class _BabelTranslations:
    """What WTForms expects of a translations object, answered from the app's catalogue."""

    def gettext(self, string: str) -> str:
        return str(get_translations().ugettext(string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return str(get_translations().ungettext(singular, plural, n))


class Form(FlaskForm):
    """FlaskForm whose built-in messages follow the page's language."""

    class Meta:
        def get_translations(self, form: Any) -> _BabelTranslations:
            return _BabelTranslations()


class ActionForm(Form):
    """A bare POST button (submit, archive, delete, publish, retry ...): only the CSRF token."""
