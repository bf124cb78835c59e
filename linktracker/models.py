"""Every model, imported in one place so metadata (Alembic, tests) sees the whole schema."""

from linktracker.auth.models import ApiToken, LoginAttempt, User
from linktracker.campaigns.models import Campaign
from linktracker.clicks.models import Click
from linktracker.crm.models import CrmImport, CrmImportError, CrmRecord
from linktracker.db import Base
from linktracker.employees.models import Employee
from linktracker.links.models import Link
from linktracker.privacy.models import PrivacyRequest
from linktracker.reports.models import (
    ClickDay,
    ClickMonth,
    LinkDay,
    LinkMonth,
    RepDay,
    RepMonth,
)
from linktracker.settings.models import Setting
from linktracker.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery

__all__ = [
    "ApiToken",
    "Base",
    "Campaign",
    "Click",
    "ClickDay",
    "ClickMonth",
    "CrmImport",
    "CrmImportError",
    "CrmRecord",
    "Employee",
    "Link",
    "LinkDay",
    "LinkMonth",
    "LoginAttempt",
    "PrivacyRequest",
    "RepDay",
    "RepMonth",
    "Setting",
    "User",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
]
