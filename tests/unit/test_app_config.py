"""The configuration as typed values: environment strings become numbers, flags and folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from linktracker.config import DEFAULTS, AppConfig, load_config


def test_environment_strings_arrive_typed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CRM_KEEP_EMAILS", "yes")
    monkeypatch.setenv("CRM_IMPORT_WAIT_SECONDS", "2.5")
    monkeypatch.setenv("CRM_RAW_RETENTION_DAYS", "7")
    monkeypatch.setenv("MAX_UPLOAD_MB", "3")
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    monkeypatch.setenv("COUNTRY_HEADER", "CF-IPCountry")
    config = AppConfig(load_config(str(tmp_path)))
    assert config.crm_keep_emails is True
    assert config.crm_import_wait_seconds == 2.5
    assert config.crm_raw_retention_days == 7
    assert (config.max_upload_mb, config.max_content_length) == (3, 3 * 1024 * 1024)
    assert config.trusted_proxies == 1
    assert config.country_header == "CF-IPCountry"
    assert config.fallback_url is None  # empty means none
    assert config.upload_folder == str(tmp_path / "uploads")
    assert config.spool_folder == str(tmp_path / "spool")


def test_defaults_arrive_typed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    config = AppConfig(load_config(str(tmp_path)))
    assert config.base_url == "http://127.0.0.1:5000"
    assert config.crm_keep_emails is False
    assert config.crm_timezone == "UTC"
    assert config.link_cache_seconds == 30.0
    assert config.click_durability == "journal"
    assert config.login_rate_limit == "10 per minute"
    assert config.sql_echo is False


def test_a_key_changed_after_start_is_seen(tmp_path: Path) -> None:
    values = load_config(str(tmp_path), {"BASE_URL": "http://127.0.0.1:5000"})
    config = AppConfig(values)
    values["BASE_URL"] = "https://go.example.com"  # what `linktracker run --public-url` does
    assert config.base_url == "https://go.example.com"
