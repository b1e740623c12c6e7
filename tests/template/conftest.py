from __future__ import annotations

from typing import Any

import pytest
from tests.template.reading import template_copy


@pytest.fixture
def template() -> dict[str, Any]:
    """template.yaml as CloudFormation reads it (short-form tags in long form); a copy per test."""
    return template_copy()
