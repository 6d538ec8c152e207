"""The replicas profile's configuration: HAProxy accepts it, and `chasqui run` refuses several replicas without
the servers they share, naming each setting in Spanish."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bot.cli.balancer import Pool, haproxy_config
from bot.cli.stack import Stack, StackError
from bot.settings import Settings

HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)


def test_haproxy_accepts_the_configuration_and_keeps_metrics_private(tmp_path: Path) -> None:
    config = haproxy_config(
        "127.0.0.1",
        [
            Pool("gateway", 8000, "/readyz", [8001, 8002]),
            Pool("rasa", 5005, "/status?token=abc", [5006, 5007]),
            Pool("actions", 5055, "/health", [5056, 5057]),
        ],
    )
    assert "server gateway-2 127.0.0.1:8002 check" in config
    assert "deny deny_status 404 if { path_beg /metrics }" in config
    if HAPROXY is None:
        pytest.skip("HAProxy is not installed (make test installs it)")
    (tmp_path / "haproxy.cfg").write_text(config)
    checked = subprocess.run([HAPROXY, "-c", "-f", str(tmp_path / "haproxy.cfg")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_several_replicas_without_shared_servers_are_refused_with_the_settings_to_set(tmp_path: Path) -> None:
    stack = Stack(Settings(var_dir=tmp_path, replicas=2, redis_url=""))
    with pytest.raises(StackError) as refused:
        stack.check_replicas()
    message = str(refused.value)
    assert message.startswith("CHASQUI_REPLICAS=2 necesita estado compartido en servidores.")
    for setting in ("DATABASE_URL", "RASA_DATABASE_URL", "REDIS_URL"):
        assert f"  - {setting} " in message, message

    Stack(Settings(var_dir=tmp_path, replicas=1)).check_replicas()  # one of each: the embedded default is fine
    assert Stack(Settings(var_dir=tmp_path, replicas=2)).ports("gateway") == [8001, 8002]
