"""The review form. Ratings stay text: the service parses them and names the field it refuses.

Each product line comes as a pair of inputs named rating-<line id> and body-<line id> (read by the view,
like the checkout's delivery-<kube id>); the form itself carries the KUBE's rating and the CSRF token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField

from marketplace.forms import Form


class ReviewForm(Form):
    kube_rating = StringField(_l("Your rating of the KUBE"))
    kube_body = TextAreaField(_l("About the KUBE (optional)"))
