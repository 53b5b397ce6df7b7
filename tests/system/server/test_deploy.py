"""deploy/docker-compose.milvus.yml: linted with dclint (from npm: no Docker
engine runs here), and what it must say checked: two silkqa replicas on one
Milvus standalone sharing one data volume, behind one port."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from tests.support.paths import ROOT

COMPOSE = ROOT / "deploy" / "docker-compose.milvus.yml"


@pytest.mark.slow
def test_the_compose_file_passes_dclint(tmp_path):
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    subprocess.run(["npm", "install", "--silent", "--prefix", str(tmp_path), "dclint@3.1.0"], check=True, timeout=600)
    done = subprocess.run(
        [str(tmp_path / "node_modules" / ".bin" / "dclint"), str(COMPOSE)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_two_replicas_share_one_milvus_and_one_port():
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert {"etcd", "minio", "milvus", "silkqa-1", "silkqa-2", "proxy"} <= set(services)
    replicas = [services["silkqa-1"], services["silkqa-2"]]
    for replica in replicas:
        assert replica["environment"]["SILKQA_STORE"] == "milvus"
        assert replica["environment"]["SILKQA_MILVUS_URI"] == "http://milvus:19530"
        assert "silkqa-data:/data" in replica["volumes"]  # the writers' lock file, shared
        assert "ports" not in replica  # reached through the proxy only
    assert [p.split(":", 1)[1] for p in services["proxy"]["ports"]] == ["8000:8000"]
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server silkqa-1:8000" in nginx and "server silkqa-2:8000" in nginx
