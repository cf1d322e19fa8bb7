"""Test-wide settings: every test gets its own HOPIA_HOME; rebuildable caches are shared.

The compiled NLP pipeline is cached in <repo>/.hopia-cache (kept between runs and by CI), so
only the very first run on a machine pays the eds.cim10 build.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
TEST_VAULT_KEY = "aG9waWEtdGVzdC12YXVsdC1rZXktMDEyMzQ1Njc4OSE="

os.environ.setdefault("HOPIA_CACHE_DIR", str(REPO / ".hopia-cache"))
os.environ["TQDM_DISABLE"] = "1"
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(autouse=True)
def hopia_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from hopia.platform.config import get_settings

    home = tmp_path / "hopia-home"
    monkeypatch.setenv("HOPIA_HOME", str(home))
    monkeypatch.setenv("HOPIA_SECRET_KEY", "test-secret-not-for-production")
    # Fixed, test-only vault key (base64 of 32 bytes): production keys come from `hopia init`.
    monkeypatch.setenv("HOPIA_VAULT_KEY", TEST_VAULT_KEY)
    monkeypatch.delenv("HOPIA_WAREHOUSE_URL", raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


def shared_path(*parts: str) -> Path:
    """A file under ../shared/data; the calling test is skipped when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data absent: {path}")
    return path
