"""The data-processing consent a customer gives by sharing their contact (152-FZ).

The version is stored with the consent (customers.pd_policy_version), so when the text changes we
know who agreed to which one. Change the text in locales/*/start.ftl and bump this together.
"""

from __future__ import annotations

POLICY_VERSION = "2026-11"
