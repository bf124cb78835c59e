"""The roles a user may have, and the groups of them the pages, the API and the services check."""

from __future__ import annotations

from typing import Final

# From most to least trusted: a token's scope may narrow a user's role, never widen it.
ROLES: Final = ("admin", "marketer", "sales_ops", "employee")

ADMINS: Final = ("admin",)
# Campaigns, employees, reports and chosen short codes: those who speak for the company.
MANAGERS: Final = ("admin", "marketer")
# CRM uploads and the raw and rejected files (customer emails in clear).
IMPORTERS: Final = ("sales_ops", "admin")
# CRM import lists and summaries.
CRM_READERS: Final = ("sales_ops", "admin", "marketer")
EVERYONE: Final = ROLES
