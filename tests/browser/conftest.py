"""A real headless Chromium (Debian's, driven by Playwright) for every web page."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SWITCHBOARD_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_PRESENT = Path(CHROMIUM).is_file()  # read once, at import


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    from playwright.async_api import Error, async_playwright

    from tests.conftest import unavailable

    if not CHROMIUM_PRESENT:
        unavailable("Chromium", FileNotFoundError(CHROMIUM))
    async with async_playwright() as playwright:
        try:
            launched = await playwright.chromium.launch(executable_path=CHROMIUM,
                                                        args=["--no-sandbox"])
        except Error as err:
            unavailable("Chromium", err)
            raise
        try:
            yield launched
        finally:
            await launched.close()
