"""`rasa test core` on the test stories, with the action server running: no prediction errors."""

from __future__ import annotations

import subprocess

import pytest

from bot.cli.model import rasa_env
from tests.e2e.conftest import Chasqui

pytestmark = pytest.mark.conversation


def test_rasa_test_stories_have_no_prediction_errors(chasqui: Chasqui, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = chasqui.settings
    env = chasqui.stack.rasa_process_env()
    env.update(rasa_env())
    result = subprocess.run(
        [
            str(settings.effective_rasa_bin),
            "test",
            "core",
            "--model",
            str(chasqui.model),
            "--stories",
            "tests/stories",
            "--endpoints",
            "endpoints.yml",
            "--out",
            str(tmp_path / "results"),
            "--fail-on-prediction-errors",
        ],
        cwd=settings.project_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    failed = tmp_path / "results" / "failed_test_stories.yml"
    detail = failed.read_text() if failed.exists() else result.stdout[-3000:] + result.stderr[-3000:]
    assert result.returncode == 0, detail
