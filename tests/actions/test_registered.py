"""The action server serves exactly the actions the domain names (rasa-sdk registers what is imported)."""

from __future__ import annotations

from pathlib import Path

import yaml
from rasa_sdk.executor import ActionExecutor


def test_the_action_server_registers_every_action_of_the_domain(project_dir: Path) -> None:
    declared: set[str] = set()
    for path in (project_dir / "dialogs" / "dominio").glob("*.yml"):
        domain = yaml.safe_load(path.read_text(encoding="utf-8"))
        declared |= {a for a in domain.get("actions") or () if not a.startswith("utter_")}
    executor = ActionExecutor()
    executor.register_package("bot.actions")
    assert set(executor.actions) == declared
