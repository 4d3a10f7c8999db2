"""Forms of the facilitator pages (the KUBE form itself is shared with "my KUBE")."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import Length

from marketplace.forms import Form
from marketplace.shop.forms import ActionForm, KubeForm

__all__ = ["ActionForm", "KubeForm", "SendBackForm"]


class SendBackForm(Form):
    """Sending a product back to its KUBE needs a note saying what to fix (the service requires it)."""

    note = TextAreaField(_l("What should the KUBE fix?"), validators=[Length(max=1000)])
