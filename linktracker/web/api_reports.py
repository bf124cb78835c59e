"""GET /api/v1/reports/*: JSON by default, spreadsheet-safe CSV with ?format=csv."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, replace
from typing import Any

from flask import Response, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from linktracker.auth.roles import EVERYONE, MANAGERS
from linktracker.csvsafe import iter_csv, to_csv
from linktracker.employees.models import Employee
from linktracker.errors import Forbidden, InvalidInput, NotFound
from linktracker.reports import audience_present, present
from linktracker.reports.audience import parse_dimension, report_clicks
from linktracker.reports.filters import ReportFilters, parse_bucket, parse_report_filters, today_in
from linktracker.reports.own import OwnFigures, report_own_figures
from linktracker.reports.participation import report_participation
from linktracker.reports.records import all_records
from linktracker.reports.recruiting import recruiting_dict, recruiting_table, report_recruiting
from linktracker.reports.results import EmployeeRef
from linktracker.reports.scope import resolve_scope
from linktracker.reports.services import (
    report_campaigns,
    report_channels,
    report_program,
    report_rep,
    report_reps,
)
from linktracker.web.api import BadRequest, api
from linktracker.web.context import db, identity, require_roles, settings
from linktracker.web.downloads import streamed_csv
from linktracker.web.own_data import own_data


def _filters() -> ReportFilters:
    today = today_in(settings().reporting_timezone)
    return parse_report_filters(request.args, today=today)


def own_handle_only(handle: str | None) -> None:
    """An employee reads only their own figures: `handle` must be theirs (404 otherwise, the
    answer an unknown handle gets, so other reps' handles cannot be probed)."""
    who = identity()
    assert who is not None
    if who.role in MANAGERS:
        return
    if not handle:
        raise Forbidden(
            "Employees see only their own clicks: add employee=<your handle>.",
            {"employee": "Required: your own handle."},
        )
    own = db().get(Employee, who.employee_id) if who.employee_id else None
    if own is None or own.handle != handle:
        raise NotFound(f"No employee with handle '{handle}'.")


def _format() -> str:
    wanted = request.args.get("format", "json")
    if wanted not in ("json", "csv"):
        raise BadRequest("Unknown format.", {"format": "Use json or csv."})
    return wanted


def _respond(data: dict[str, Any], table: present.Table, name: str) -> Response:
    if _format() == "json":
        return jsonify(data)
    filename = f"{name}-{data['from']}-{data['to']}.csv"
    return Response(
        to_csv(*table),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


ME_DAYS = 30


@api.get("/me")
@require_roles(*EVERYONE)
def get_me() -> Response:
    """Who the token (or session) is, and their own figures over the last 30 days."""
    who = identity()
    assert who is not None
    own = db().get(Employee, who.employee_id) if who.employee_id else None
    figures = OwnFigures(0, 0, 0, 0)
    if own is not None:
        program = settings()
        figures = report_own_figures(
            db(),
            own.handle,
            today=today_in(program.reporting_timezone),
            days=ME_DAYS,
            timezone=program.reporting_timezone,
            currency=program.default_currency,
        )
    return jsonify(
        {
            "email": who.email,
            "role": who.role,
            "employee": present.employee_dict(EmployeeRef(own.handle, own.name, own.team))
            if own
            else None,
            "figures": asdict(figures),
            "days": ME_DAYS,
        }
    )


@api.get("/me/data")
@require_roles(*EVERYONE)
def get_my_data() -> Response:
    """Everything held about the token's (or session's) own employee profile."""
    return own_data(download=False)


@api.get("/reports/reps")
@require_roles(*MANAGERS)
def get_reps_report() -> Response:
    program = settings()
    report = report_reps(
        db(), _filters(), timezone=program.reporting_timezone, currency=program.default_currency
    )
    return _respond(present.reps_dict(report), present.reps_table(report), "reps")


@api.get("/reports/reps/<handle>")
@require_roles(*MANAGERS, "employee")
def get_rep_report(handle: str) -> Response:
    who = identity()
    assert who is not None
    if who.role not in MANAGERS:
        own = db().get(Employee, who.employee_id) if who.employee_id else None
        if own is None or own.handle != handle:
            # Same answer as an unknown handle, so other reps' handles cannot be probed.
            raise NotFound(f"No employee with handle '{handle}'.")
    bucket = parse_bucket(request.args.get("bucket", "day"))
    name = request.args.get("table", "series")
    if name not in ("series", "links", "records"):
        raise InvalidInput("Unknown table.", {"table": "Use series, links or records."})
    program = settings()
    if name == "records" and _format() == "csv":
        return _records_csv(handle, customers=who.role in MANAGERS)
    detail = report_rep(
        db(),
        handle,
        _filters(),
        timezone=program.reporting_timezone,
        bucket=bucket,
        currency=program.default_currency,
    )
    if who.role not in MANAGERS:
        # An employee's own report holds no customer's personal data.
        records = tuple(replace(r, name=None, company=None, owner=None) for r in detail.records)
        detail = replace(detail, records=records)
    table = present.rep_table(detail, name)
    # One file name per table: the rep page offers several downloads side by side.
    return _respond(present.rep_dict(detail), table, f"rep-{handle}-{name}")


def _records_csv(handle: str, *, customers: bool) -> Response:
    """Every attributed record of the rep in the range, streamed (the JSON holds the first
    1,000). Without ``customers`` (an employee's own), no customer name, company or owner."""
    if db().scalar(select(Employee.id).where(Employee.handle == handle)) is None:
        raise NotFound(f"No employee with handle '{handle}'.")
    program = settings()
    filters = replace(_filters(), employee=handle)
    # Bad filters answer 400 now, not halfway through a download.
    resolve_scope(db(), filters, program.reporting_timezone, program.default_currency)

    def chunks(session: Session) -> Iterator[str]:
        records = all_records(
            session,
            filters,
            timezone=program.reporting_timezone,
            currency=program.default_currency,
        )
        if not customers:
            records = (replace(r, name=None, company=None, owner=None) for r in records)
        yield from iter_csv(*present.records_table(records))

    filename = f"rep-{handle}-records-{filters.date_from}-{filters.date_to}.csv"
    return streamed_csv(chunks, filename)


@api.get("/reports/campaigns")
@require_roles(*MANAGERS)
def get_campaigns_report() -> Response:
    program = settings()
    report = report_campaigns(
        db(), _filters(), timezone=program.reporting_timezone, currency=program.default_currency
    )
    return _respond(present.campaigns_dict(report), present.campaigns_table(report), "campaigns")


@api.get("/reports/channels")
@require_roles(*MANAGERS)
def get_channels_report() -> Response:
    program = settings()
    report = report_channels(
        db(), _filters(), timezone=program.reporting_timezone, currency=program.default_currency
    )
    return _respond(present.channels_dict(report), present.channels_table(report), "channels")


@api.get("/reports/program")
@require_roles(*MANAGERS)
def get_program_report() -> Response:
    program = settings()
    report = report_program(
        db(),
        _filters(),
        timezone=program.reporting_timezone,
        cpm=program.cpm,
        cost_per_lead=program.cost_per_lead,
        currency=program.default_currency,
    )
    return _respond(present.program_dict(report), present.program_table(report), "program")


@api.get("/reports/participation")
@require_roles(*MANAGERS)
def get_participation_report() -> Response:
    """Joined and active employees per team; the CSV lists the inactive ones."""
    report = report_participation(db(), _filters(), timezone=settings().reporting_timezone)
    return _respond(
        present.participation_dict(report), present.participation_table(report), "inactive"
    )


@api.get("/reports/recruiting")
@require_roles(*MANAGERS)
def get_recruiting_report() -> Response:
    """Job-link clicks, applications, referrals, hires and days to hire per rep and job."""
    job = (request.args.get("job") or "").strip() or None
    table = request.args.get("table", "reps")
    if table not in ("reps", "jobs"):
        raise InvalidInput("Unknown table.", {"table": "Use reps or jobs."})
    report = report_recruiting(db(), _filters(), timezone=settings().reporting_timezone, job=job)
    name = "recruiting" if table == "reps" else "recruiting-jobs"
    return _respond(recruiting_dict(report), recruiting_table(report, table), name)


@api.get("/reports/clicks")
@require_roles(*MANAGERS, "employee")
def get_clicks_report() -> Response:
    """People's clicks per referrer, channel, country, device, hour, ... (`by=`)."""
    own_handle_only(request.args.get("employee") or None)
    try:
        by = parse_dimension(request.args.get("by"))
        filters = _filters()
        _format()
    except InvalidInput as exc:
        raise BadRequest(exc.message, exc.fields) from None
    report = report_clicks(db(), filters, by, timezone=settings().reporting_timezone)
    return _respond(
        audience_present.clicks_dict(report),
        audience_present.clicks_table(report),
        f"clicks-by-{by}",
    )
