"""The facilitator's (pendamping's) pages: the review queue, the workspace of their KUBEs, field visit reports,
monthly reports (CSV and PDF), registering a new KUBE."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from marketplace.auth.models import User
from marketplace.books.services import LOCAL_TZ, add_months, monthly_figures, parse_month, this_month
from marketplace.catalog import services
from marketplace.catalog.models import Kube, KubeStatus
from marketplace.common import N_, DomainError, utcnow
from marketplace.extensions import db
from marketplace.facilitator import bp, reports
from marketplace.facilitator import services as workspace
from marketplace.facilitator.forms import KubeForm, SendBackForm, VisitForm
from marketplace.forms import ActionForm
from marketplace.web import (
    current_actor,
    db_session,
    flash_refusal,
    money_chart,
    private_image_limits,
    query_page,
    reject_form,
    rupiah,
    send_private_image,
)

_ANCHOR = re.compile(r"#[a-z][a-z0-9-]{0,40}")
_PHOTO_KEY = re.compile(r"[0-9a-f]{32}")

# Pages a KUBE's own members read too (their visit reports, figures and monthly report); the services decide.
_MEMBER_PAGES = {"facilitator.kube_page", "facilitator.visit", "facilitator.visit_photo",
                 "facilitator.kube_report_csv", "facilitator.kube_report_pdf"}


@bp.before_request
def _facilitators_only() -> None:
    """Signed-in facilitators and operators only (the services check each KUBE again), except the pages a
    KUBE's members read."""
    if request.endpoint in _MEMBER_PAGES:
        return
    if current_user.is_authenticated and not (current_user.is_facilitator or current_user.is_operator):
        abort(403)


@bp.route("/")
@login_required
def queue() -> str:
    user = current_actor()
    data = services.review_queue(db_session(), user)
    return render_template(
        "facilitator/queue.html",
        queue=data,
        kubes=services.kubes_of_facilitator(db_session(), user),
        action_form=ActionForm(),
        KubeStatus=KubeStatus,
    )


def _run(work: Callable[[Session, User], object], message: str, **params: object) -> None:
    """Run one review action and commit, or roll back and flash why not (403/404 become error pages)."""
    try:
        work(db_session(), current_actor())
    except DomainError as error:
        flash_refusal(error)
    else:
        db.session.commit()
        flash(_(message, **params), "success")


def _back(product_id: int | None = None) -> Response:
    """Back to the queue at the section the action came from, or to the product page it was made on."""
    if product_id is not None and request.form.get("next") == "product":
        return redirect(url_for("catalog.product", product_id=product_id))
    anchor = request.form.get("anchor") or ""
    return redirect(url_for("facilitator.queue") + (anchor if _ANCHOR.fullmatch(anchor) else ""))


@bp.route("/products/<id:product_id>/approve", methods=["POST"])
@login_required
def approve_product(product_id: int) -> Response:
    if ActionForm().validate_on_submit():
        _run(lambda s, u: services.approve_product(s, u, product_id),
             N_("The product is approved and on sale."))
    return _back(product_id)


@bp.route("/products/<id:product_id>/send-back", methods=["POST"])
@login_required
def reject_product(product_id: int) -> Response:
    form = SendBackForm()
    if form.validate_on_submit():
        _run(lambda s, u: services.reject_product(s, u, product_id, form.note.data or ""),
             N_("The product is sent back to the KUBE with your note."))
    else:
        flash(" ".join(str(e) for e in form.note.errors), "danger")
    return _back(product_id)


_KUBE_ACTIONS = {
    "verify": (services.verify_kube, N_("The KUBE is verified and now visible to buyers.")),
    "suspend": (services.suspend_kube, N_("The KUBE is suspended; its shop is hidden.")),
    "reinstate": (services.activate_kube, N_("The KUBE is active again.")),
}


@bp.route("/kubes/<id:kube_id>/verify", methods=["POST"], defaults={"verb": "verify"})
@bp.route("/kubes/<id:kube_id>/suspend", methods=["POST"], defaults={"verb": "suspend"})
@bp.route("/kubes/<id:kube_id>/reinstate", methods=["POST"], defaults={"verb": "reinstate"})
@login_required
def kube_action(kube_id: int, verb: str) -> Response:
    """Verify a draft KUBE, suspend a public one, or lift a suspension."""
    if ActionForm().validate_on_submit():
        service, message = _KUBE_ACTIONS[verb]
        _run(lambda s, u: service(s, u, kube_id), message)
    return _back()


@bp.route("/kubes/new", methods=["GET", "POST"])
@login_required
def new_kube() -> str | Response:
    form = KubeForm()
    form.fill_choices()
    # "Show the next list" in the region picker only reloads the form with the lists filled.
    if not request.form.get("refresh_regions") and form.validate_on_submit():
        try:
            kube = services.create_kube(db_session(), current_actor(), form.values())
        except DomainError as error:
            reject_form(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s is registered as a draft. Add its members, starting with the ketua, "
                    "then verify it.", name=kube.name), "success")
            return redirect(url_for("shop.profile", slug=kube.slug) + "#members")
    return render_template("facilitator/new_kube.html", form=form)


# --- The workspace: every KUBE at a glance ----------------------------------------------------------


def _month_label(month: date) -> str:
    return format_date(month, "MMM yy")


@bp.route("/kubes")
@login_required
def kubes() -> str:
    """The facilitator's KUBEs at a glance (every KUBE for an operator)."""
    return render_template("facilitator/workspace.html",
                           glances=workspace.workspace(db_session(), current_actor()),
                           month_label=_month_label, spark_points=workspace.spark_points,
                           report_month=reports.last_month(), late_days=workspace.LATE_AFTER.days)


@bp.route("/kubes/<slug>")
@login_required
def kube_page(slug: str) -> str:
    """One KUBE for its facilitator: the last 12 months' figures, the visit log, the monthly report."""
    session = db_session()
    kube, access = workspace.kube_by_slug(session, current_actor(), slug)
    last = this_month()
    figures = monthly_figures(session, [kube.id], add_months(last, -11), last)[kube.id]
    chart = money_chart(figures, title=_("Income, expenses and profit of the last 12 months"))
    return render_template("facilitator/kube.html", kube=kube, access=access,
                           glance=workspace.glances(session, [kube])[0], figures=figures, chart=chart,
                           log=workspace.visit_log(session, kube.id, page=query_page()),
                           month_label=_month_label, report_month=reports.last_month(),
                           late_days=workspace.LATE_AFTER.days)


# --- Field visit reports ----------------------------------------------------------------------------


def _uploads(form: VisitForm) -> list[bytes]:
    """The chosen photos' bytes, reading one byte past the limit at most (the service refuses it then)."""
    limit = private_image_limits().max_bytes + 1
    return [upload.stream.read(limit) for upload in request.files.getlist(form.photos.name)
            if upload and upload.filename]


def _photos_lost(form: VisitForm) -> bool:
    """Whether photos were chosen for a submission that comes back with errors (browsers never keep them)."""
    return request.method == "POST" and any(u.filename for u in request.files.getlist(form.photos.name))


@bp.route("/kubes/<slug>/visits/new", methods=["GET", "POST"])
@login_required
def new_visit(slug: str) -> str | Response:
    session, user = db_session(), current_actor()
    kube, _access = workspace.kube_by_slug(session, user, slug)
    workspace.require_writer(session, user, kube)
    form = VisitForm()
    if request.method == "GET":
        form.visited_on.data = utcnow().astimezone(LOCAL_TZ).date()
    if form.validate_on_submit():
        try:
            report = workspace.create_visit(session, user, kube.id, form.values(), _uploads(form),
                                            private_image_limits())
        except DomainError as error:
            reject_form(form, error)
        else:
            report_id = report.id
            db.session.commit()
            flash(_("The visit report is saved."), "success")
            return redirect(url_for("facilitator.visit", report_id=report_id))
    return render_template("facilitator/visit_form.html", kube=kube, form=form, view=None,
                           photos_lost=_photos_lost(form), max_photos=workspace.MAX_PHOTOS)


@bp.route("/visits/<id:report_id>")
@login_required
def visit(report_id: int) -> str:
    view = workspace.visit(db_session(), current_actor(), report_id)
    return render_template("facilitator/visit.html", view=view, report=view.report, kube=view.report.kube)


@bp.route("/visits/<id:report_id>/edit", methods=["GET", "POST"])
@login_required
def edit_visit(report_id: int) -> str | Response:
    """An edit writes a new version of the report; the version edited stays as it was."""
    session, user = db_session(), current_actor()
    view = workspace.editable_visit(session, user, report_id)
    if request.method == "GET" and not view.is_latest:
        return redirect(url_for("facilitator.edit_visit", report_id=view.latest.id))
    report = view.report
    form = VisitForm() if request.method == "POST" else VisitForm(data={
        "visited_on": report.visited_on, "notes": report.notes, "video_links": report.video_links,
        "guidance_given": report.guidance_given, "business_monitored": report.business_monitored,
        "bookkeeping_checked": report.bookkeeping_checked, "problems_found": report.problems_found,
        "problems": report.problems, "follow_up": report.follow_up})
    dropped = request.form.getlist("drop_photo")
    if form.validate_on_submit():
        try:
            new = workspace.revise_visit(session, user, report_id, form.values(), _uploads(form),
                                         private_image_limits(), drop_photo_ids=dropped)
        except DomainError as error:
            reject_form(form, error)
            view = workspace.editable_visit(session, user, report_id)
        else:
            new_id, version = new.id, new.version
            db.session.commit()
            flash(_("Saved as version %(version)d; the earlier versions stay readable.", version=version),
                  "success")
            return redirect(url_for("facilitator.visit", report_id=new_id))
    return render_template("facilitator/visit_form.html", kube=view.report.kube, form=form, view=view,
                           dropped=set(dropped), photos_lost=_photos_lost(form),
                           max_photos=workspace.MAX_PHOTOS)


@bp.route("/visit-photos/<key>")
@login_required
def visit_photo(key: str) -> Response:
    """A visit photo (?thumb=1 for the small one), only for those who may read its report."""
    if not _PHOTO_KEY.fullmatch(key):
        abort(404)
    workspace.photo(db_session(), current_actor(), key)
    return send_private_image(key, thumb=request.args.get("thumb") == "1")


# --- Monthly reports --------------------------------------------------------------------------------


def _report_month() -> date:
    return parse_month(request.args.get("month"), field="month") or reports.last_month()


def _formatting() -> reports.Formatting:
    return reports.Formatting(translate=_, month=lambda m: format_date(m, "MMMM yyyy"),
                              day=lambda d: format_date(d, "medium"), money=rupiah)


def _download(body: str | bytes, mimetype: str, name: str) -> Response:
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _kube_report(slug: str) -> tuple[Kube, reports.MonthReport]:
    session = db_session()
    kube, _access = workspace.kube_by_slug(session, current_actor(), slug)
    return kube, reports.kube_report(session, current_actor(), kube.id, _report_month())


@bp.route("/kubes/<slug>/report.csv")
@login_required
def kube_report_csv(slug: str) -> Response:
    kube, report = _kube_report(slug)
    return _download(reports.report_csv(report, _formatting()), "text/csv",
                     f"report-{kube.slug}-{report.month:%Y-%m}.csv")


@bp.route("/kubes/<slug>/report.pdf")
@login_required
def kube_report_pdf(slug: str) -> Response:
    kube, report = _kube_report(slug)
    title = _("Monthly report: %(name)s", name=kube.name)
    return _download(reports.report_pdf(report, _formatting(), title=title), "application/pdf",
                     f"report-{kube.slug}-{report.month:%Y-%m}.pdf")


@bp.route("/report.csv")
@login_required
def report_csv() -> Response:
    report = reports.facilitator_report(db_session(), current_actor(), _report_month())
    return _download(reports.report_csv(report, _formatting()), "text/csv",
                     f"report-{report.month:%Y-%m}.csv")


@bp.route("/report.pdf")
@login_required
def report_pdf() -> Response:
    user = current_actor()
    report = reports.facilitator_report(db_session(), user, _report_month())
    title = _("Monthly report of %(name)s's KUBEs", name=user.name)
    return _download(reports.report_pdf(report, _formatting(), title=title), "application/pdf",
                     f"report-{report.month:%Y-%m}.pdf")
