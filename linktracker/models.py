"""Every model, imported in one place so metadata (Alembic, tests) sees the whole schema."""

from linktracker.auth.models import ApiToken, LoginAttempt, User
from linktracker.campaigns.models import Campaign, PostText
from linktracker.clicks.models import Click
from linktracker.contributions.models import Contribution
from linktracker.crm.models import CrmImport, CrmImportError, CrmRecord
from linktracker.db import Base
from linktracker.digest.models import DigestSend
from linktracker.employees.models import Employee
from linktracker.identity.models import ScimIdentity, ScimToken
from linktracker.links.models import Link
from linktracker.privacy.models import PrivacyRequest
from linktracker.recruiting.models import Application
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
    "Application",
    "Base",
    "Campaign",
    "Click",
    "ClickDay",
    "ClickMonth",
    "Contribution",
    "CrmImport",
    "CrmImportError",
    "CrmRecord",
    "DigestSend",
    "Employee",
    "Link",
    "LinkDay",
    "LinkMonth",
    "LoginAttempt",
    "PostText",
    "PrivacyRequest",
    "RepDay",
    "RepMonth",
    "ScimIdentity",
    "ScimToken",
    "Setting",
    "User",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
]
