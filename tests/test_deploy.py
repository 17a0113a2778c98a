"""deploy/: what the container image holds serves the app alone, and the compose file and the
nginx site fit together. (Docker is not run here; tests/test_replicas.py runs the nginx site in
front of two replicas.)"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml
from gradio_client import Client

from digitpad import REPO_DIR
from harness import NGINX, NGINX_SITE, pad_value, start_server

pytestmark = pytest.mark.e2e

DEPLOY = REPO_DIR / "deploy"
DOCKERFILE = (DEPLOY / "Dockerfile").read_text()


def copied_paths() -> list[str]:
    """What the Dockerfile's COPY lines take from the repository."""
    paths = []
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY "):
            words = [w for w in line.split()[1:] if not w.startswith("--")]
            paths += words[:-1]
    return paths


def test_the_image_runs_as_its_own_user_with_a_health_check():
    assert re.search(r"^USER (?!root)\w+", DOCKERFILE, flags=re.MULTILINE)
    assert "HEALTHCHECK" in DOCKERFILE and 'CMD ["python", "demo.py"]' in DOCKERFILE
    assert "assets/" in copied_paths(), "the model is baked in"


def test_the_image_s_files_alone_serve_the_app(tmp_path):
    """Only what the Dockerfile copies, started as its CMD starts it: the page, a reading, and
    the HEALTHCHECK's own command all work (nothing is downloaded, nothing else is needed)."""
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    for path in copied_paths():
        source = REPO_DIR / path
        copy = shutil.copytree if source.is_dir() else shutil.copy2
        copy(source, app_dir / path.rstrip("/"))
    server = start_server(app_dir / "assets" / "digitpad.keras", app_dir=app_dir)
    try:
        client = Client(server.url, verbose=False)
        assert client.predict(pad_value(7), api_name="/predict_sketch")["digit"] == 7
        probe = re.search(r'CMD (python -c ".*")', DOCKERFILE).group(1)
        port = server.url.rstrip("/").rsplit(":", 1)[1]
        done = subprocess.run(probe.replace("7860", port), shell=True, timeout=30)
        assert done.returncode == 0, "the health check passes"
    finally:
        server.stop()


def test_compose_runs_replicas_of_the_image_behind_nginx_with_the_site_config():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    app, nginx = compose["services"]["app"], compose["services"]["nginx"]
    assert (DEPLOY / app["build"]["context"] / app["build"]["dockerfile"]).resolve() == (
        DEPLOY / "Dockerfile"
    )
    assert app["deploy"]["replicas"] >= 2
    (volume,) = nginx["volumes"]
    source, target = volume.split(":")[:2]
    assert (DEPLOY / source).resolve() == NGINX_SITE and target.startswith("/etc/nginx/templates/")
    variables = set(re.findall(r"\$\{(\w+)\}", NGINX_SITE.read_text()))
    assert variables == set(nginx["environment"]), "compose fills in every variable of the site"
    assert nginx["depends_on"]["app"]["condition"] == "service_healthy"


@pytest.mark.skipif(not NGINX.is_file(), reason=f"no {NGINX}")
def test_the_site_config_is_valid_nginx_as_compose_fills_it(tmp_path):
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    site = NGINX_SITE.read_text()
    for name, value in compose["services"]["nginx"]["environment"].items():
        site = site.replace("${" + name + "}", value.replace("app:7860", "127.0.0.1:7860"))
    site = site.replace("listen 80;", "listen 127.0.0.1:8080;")
    (tmp_path / "site.conf").write_text(site)
    main = f"events {{}}\nhttp {{ include {tmp_path / 'site.conf'}; }}\npid {tmp_path}/nginx.pid;\n"
    (tmp_path / "nginx.conf").write_text(main)
    done = subprocess.run(
        [str(NGINX), "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
