"""Customer privacy requests for admins: find, export and erase an address; the audit log.

Every request is a POST: an address in a query string would end up in access logs.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from linktracker.auth.roles import ADMINS
from linktracker.errors import DomainError
from linktracker.privacy import requests as privacy
from linktracker.web.context import db, identity, require_roles, runtime
from linktracker.web.downloads import attachment

privacy_pages = Blueprint("privacy_pages", __name__, url_prefix="/app/privacy")
ERASE_WORD = "erase"


def _find(kind: str) -> privacy.Findings:
    found = privacy.find(
        db(),
        request.form.get("email", ""),
        secret=runtime().secret,
        upload_folder=runtime().config.upload_folder,
    )
    if kind != "erase":
        privacy.log_request(db(), kind, found, actor_user_id=_actor())
    return found


def _actor() -> int | None:
    who = identity()
    return who.user_id if who else None


def _page(status: int = 200, **values: object) -> tuple[str, int]:
    values.setdefault("found", None)
    values.setdefault("error", None)
    values.setdefault("email", request.form.get("email", ""))
    return render_template(
        "privacy/index.html", log=privacy.audit_log(db()), erase_word=ERASE_WORD, **values
    ), status


@privacy_pages.get("/")
@require_roles(*ADMINS)
def index() -> tuple[str, int]:
    return _page()


@privacy_pages.post("/find")
@require_roles(*ADMINS)
def find() -> tuple[str, int]:
    try:
        found = _find("find")
    except DomainError as exc:
        return _page(exc.status, error=exc.message)
    return _page(found=found, email=found.email)


@privacy_pages.post("/export")
@require_roles(*ADMINS)
def export() -> Response | tuple[str, int]:
    try:
        found = _find("export")
    except DomainError as exc:
        return _page(exc.status, error=exc.message)
    body = json.dumps(privacy.export(found), indent=2, ensure_ascii=False)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = attachment("privacy-export.json")
    response.headers["Cache-Control"] = "no-store"
    return response


@privacy_pages.post("/erase")
@require_roles(*ADMINS)
def erase() -> BaseResponse | tuple[str, int]:
    try:
        found = _find("erase")
    except DomainError as exc:
        return _page(exc.status, error=exc.message)
    if request.form.get("confirm", "").strip().lower() != ERASE_WORD:
        return _page(
            422, found=found, email=found.email, error=f"Type {ERASE_WORD} to confirm erasing."
        )
    try:
        erased = privacy.erase(db(), found, upload_folder=runtime().config.upload_folder)
    except DomainError as exc:
        return _page(exc.status, found=found, email=found.email, error=exc.message)
    privacy.log_request(db(), "erase", found, actor_user_id=_actor(), erased=erased)
    flash(
        f"Erased {erased.records} record(s) and {erased.raw_lines} line(s) from "
        f"{erased.raw_files} raw upload(s); stripped {erased.row_errors} rejected row(s). "
        "The imports' summaries are kept."
        + (f" Erased {erased.applications} ATS application(s)." if erased.applications else ""),
        "success",
    )
    return redirect(url_for("privacy_pages.index"))
