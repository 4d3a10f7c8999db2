"""Pages of the success stories: the public list and story pages, the facilitator's forms and desk, and the
operators' review queue."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from marketplace.auth.models import User
from marketplace.common import DomainError
from marketplace.extensions import db
from marketplace.stories import bp, services
from marketplace.stories.forms import NoteForm, StoryForm
from marketplace.stories.models import Story, StoryStatus
from marketplace.stories.services import StoryAction
from marketplace.web import (
    current_actor,
    db_session,
    image_limits,
    one_button_step,
    query_page,
    reject_form,
    safe_next,
)

PER_PAGE = 12

STATUS_LABELS = {
    StoryStatus.DRAFT: _l("Draft"),
    StoryStatus.SUBMITTED: _l("Waiting for an operator"),
    StoryStatus.PUBLISHED: _l("Published"),
    StoryStatus.SENT_BACK: _l("Sent back"),
}
STATUS_COLOURS = {StoryStatus.DRAFT: "secondary", StoryStatus.SUBMITTED: "warning",
                  StoryStatus.PUBLISHED: "success", StoryStatus.SENT_BACK: "danger"}


@bp.app_template_global()
def story_status_label(status: StoryStatus) -> str:
    return str(STATUS_LABELS.get(status, status.value))


@bp.app_template_global()
def story_status_colour(status: StoryStatus) -> str:
    return STATUS_COLOURS.get(status, "secondary")


def _viewer() -> User | None:
    return current_actor() if current_user.is_authenticated else None


# --- Public pages ------------------------------------------------------------------------------------


@bp.route("/stories")
def index() -> str:
    """Published success stories, newest first."""
    page = services.public_stories(db_session(), page=query_page(), per_page=PER_PAGE)
    return render_template("stories/index.html", page=page)


@bp.route("/stories/<slug>")
def story(slug: str) -> str:
    """A story: public once published; before that only for the KUBE's insiders (see the services)."""
    viewer = _viewer()
    found = services.story_by_slug(db_session(), viewer, slug)
    actions = services.allowed_story_actions(db_session(), viewer, found)
    return render_template("stories/story.html", story=found, actions=actions, StoryAction=StoryAction,
                           StoryStatus=StoryStatus, note_form=NoteForm())


# --- Writing (facilitators) ----------------------------------------------------------------------------


@bp.route("/stories/mine")
@login_required
def mine() -> str:
    """A facilitator's stories, and a button to write one for each assigned KUBE."""
    desk = services.facilitator_stories(db_session(), current_actor())
    return render_template("stories/mine.html", desk=desk, StoryStatus=StoryStatus)


def _photos_lost(form: StoryForm) -> bool:
    """Whether a photo was chosen for a submission that comes back with errors (browsers never keep it)."""
    if request.method != "POST":
        return False
    upload = request.files.get(form.photo.name)
    return bool(upload and upload.filename)


def _add_photo(form: StoryForm, story: Story) -> None:
    upload = form.photo.data
    if upload is None or not getattr(upload, "filename", None):
        return
    limits = image_limits()
    data = upload.stream.read(limits.max_bytes + 1)  # one byte past the limit at most: the service refuses it
    services.add_photo(db_session(), current_actor(), story.id, data, limits, form.caption.data or "")


def _saved_message(story: Story, sent: bool) -> str:
    if sent:
        return _("“%(title)s” is sent to the operators. They publish it or send it back with a note.",
                 title=story.title)
    return _("“%(title)s” is saved as a draft.", title=story.title)


@bp.route("/stories/new", methods=["GET", "POST"])
@login_required
def new_story() -> str | Response:
    user = current_actor()
    kube = services.writable_kube(db_session(), user, request.args.get("kube", ""))
    form = StoryForm()
    if form.validate_on_submit():
        sent = bool(form.send.data)
        try:
            created = services.create_story(db_session(), user, kube.id, form.values())
            _add_photo(form, created)
            if sent:
                services.submit_story(db_session(), user, created.id)
        except DomainError as error:
            reject_form(form, error)
        else:
            slug, message = created.slug, _saved_message(created, sent)
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("stories.story" if sent else "stories.edit_story", slug=slug))
    return render_template("stories/form.html", kube=kube, form=form, story=None, photos_lost=_photos_lost(form),
                           max_photos=services.MAX_PHOTOS)


@bp.route("/stories/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_story(slug: str) -> str | Response:
    user = current_actor()
    found = services.story_for_edit(db_session(), user, slug)
    form = StoryForm(obj=found)
    if form.validate_on_submit():
        sent = bool(form.send.data)
        try:
            services.update_story(db_session(), user, found.id, form.values())
            _add_photo(form, found)
            if sent:
                services.submit_story(db_session(), user, found.id)
        except DomainError as error:
            reject_form(form, error)
            found = services.story_for_edit(db_session(), user, slug)
        else:
            new_slug, message = found.slug, _saved_message(found, sent)
            db.session.commit()
            flash(message if sent else _("Saved."), "success")
            return redirect(url_for("stories.story" if sent else "stories.edit_story", slug=new_slug))
    return render_template("stories/form.html", kube=found.kube, form=form, story=found,
                           photos_lost=_photos_lost(form), max_photos=services.MAX_PHOTOS)


@bp.route("/stories/<slug>/photos/<id:photo_id>/delete", methods=["POST"])
@login_required
def delete_photo(slug: str, photo_id: int) -> Response:
    user = current_actor()
    found = services.story_by_slug(db_session(), user, slug)
    story_id = found.id
    one_button_step(lambda: services.remove_photo(db_session(), user, story_id, photo_id,
                                                  current_app.config["MEDIA_ROOT"]),
                    _("Photo removed."))
    return redirect(url_for("stories.edit_story", slug=slug) + "#photos")


@bp.route("/stories/<slug>/submit", methods=["POST"])
@login_required
def submit(slug: str) -> Response:
    user = current_actor()
    found = services.story_by_slug(db_session(), user, slug)
    story_id = found.id
    one_button_step(lambda: services.submit_story(db_session(), user, story_id),
                    _("The story is sent to the operators. They publish it or send it back with a note."))
    return redirect(url_for("stories.story", slug=slug))


# --- Reviewing (operators) ----------------------------------------------------------------------------


@bp.route("/stories/review")
@login_required
def review() -> str:
    """Operators: the stories waiting to be published."""
    queue = services.review_queue(db_session(), current_actor())
    return render_template("stories/review.html", queue=queue)


def _back(slug: str) -> str:
    return safe_next(request.form.get("next"), url_for("stories.story", slug=slug))


@bp.route("/stories/<slug>/publish", methods=["POST"])
@login_required
def publish(slug: str) -> Response:
    user = current_actor()
    found = services.story_by_slug(db_session(), user, slug)
    story_id = found.id
    one_button_step(lambda: services.publish_story(db_session(), user, story_id), _("The story is published."))
    return redirect(_back(slug))


@bp.route("/stories/<slug>/send-back", methods=["POST"])
@login_required
def send_back(slug: str) -> Response:
    user = current_actor()
    found = services.story_by_slug(db_session(), user, slug)
    story_id = found.id
    form = NoteForm()
    one_button_step(lambda: services.send_back_story(db_session(), user, story_id, form.note.data or ""),
                    _("The story is sent back to the facilitator with your note."), form)
    return redirect(_back(slug))


@bp.route("/stories/<slug>/unpublish", methods=["POST"])
@login_required
def unpublish(slug: str) -> Response:
    user = current_actor()
    found = services.story_by_slug(db_session(), user, slug)
    story_id = found.id
    form = NoteForm()
    one_button_step(lambda: services.unpublish_story(db_session(), user, story_id, form.note.data or ""),
                    _("The story is taken off the site and sent back to the facilitator."), form)
    return redirect(_back(slug))
