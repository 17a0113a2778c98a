"""Hostile clients against the real app on 127.0.0.1 (digitpad/app/guard.py and Gradio's own checks).

The server runs in this process (conftest's ``served``, on a free port), so its memory is this
process's RSS. After every probe the app must still read a digit through
gradio_client (the last test of the module).
"""

from __future__ import annotations

import json
import shutil

import httpx
import pytest

import demo as demo_script
from digitpad import DEFAULT_MODEL_PATH, REPO_DIR
from digitpad.app import guard, launch
from digitpad.files import load_keras_model
from harness import free_port

pytestmark = pytest.mark.e2e

PHOTO_5 = REPO_DIR / "assets" / "examples" / "photo_5.jpg"
SECRET = "root:x:0:0"  # the first line of /etc/passwd


@pytest.fixture(scope="module")
def url(served):
    return served[1]


def rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- files of the machine ------------------------------------------------------------------------

TRAVERSALS = [
    "/gradio_api/file=/etc/passwd",
    "/gradio_api/file=%2Fetc%2Fpasswd",
    "/gradio_api/file=%252Fetc%252Fpasswd",
    "/gradio_api/file=../../../../../../etc/passwd",
    "/gradio_api/file=..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/gradio_api/file=%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
    "/gradio_api/file=/tmp/gradio/../../etc/passwd",
    "/gradio_api/file=/ETC/PASSWD",
    "/GRADIO_API/FILE=/etc/passwd",
    "/gradio_api/file=//etc//passwd",
    "/gradio_api/file=file:///etc/passwd",
    f"/gradio_api/file={REPO_DIR}/digitpad/app/page.py",
    f"/gradio_api/file={DEFAULT_MODEL_PATH}",
    "/file=/etc/passwd",
    "/static/../../../../etc/passwd",
    "/assets/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_file_of_the_machine_is_served(url, path):
    response = httpx.get(url + path)
    assert response.status_code in (400, 403, 404), (path, response.status_code)
    assert SECRET not in response.text and "def build_app" not in response.text


def file_named(path: str) -> dict:
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


@pytest.mark.parametrize("path", ["/etc/passwd", f"{DEFAULT_MODEL_PATH}", "/tmp/../etc/passwd"])
@pytest.mark.parametrize(
    "endpoint, data",
    [
        ("label_image", lambda path: [file_named(path), "7"]),
        ("predict_images", lambda path: [[file_named(str(PHOTO_5)), file_named(path)]]),
    ],
    ids=["label_image", "predict_images"],
)
def test_the_file_apis_read_no_file_of_the_machine(url, path, endpoint, data):
    """A client names a server path instead of uploading a file: it is refused, not read."""
    response = httpx.post(f"{url}/gradio_api/call/{endpoint}", json={"data": data(path)})
    assert response.status_code == 200
    event_id = response.json()["event_id"]
    stream = httpx.get(f"{url}/gradio_api/call/{endpoint}/{event_id}", timeout=30).text
    assert "event: error" in stream and "counted" not in stream and "verdict" not in stream, stream
    assert SECRET not in stream


# --- request size --------------------------------------------------------------------------------


def test_oversized_upload_is_refused(url):
    big = b"\0" * (guard.MAX_BODY_BYTES + 1)
    response = httpx.post(f"{url}/gradio_api/upload", files={"files": ("big.png", big)})
    assert response.status_code == 413


def test_oversized_streamed_upload_is_refused(url):
    """No Content-Length: the guard counts the bytes as the upload route reads them."""
    head = (
        b'--zz\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n'
        b"Content-Type: image/png\r\n\r\n"
    )

    def body():
        yield head
        for _ in range(guard.MAX_BODY_BYTES // 2**20 + 2):
            yield b"\0" * 2**20

    response = httpx.post(
        f"{url}/gradio_api/upload",
        content=body(),
        headers={"content-type": "multipart/form-data; boundary=zz"},
    )
    assert response.status_code == 413


def test_a_small_upload_is_accepted(url):
    response = httpx.post(
        f"{url}/gradio_api/upload", files={"files": ("photo_5.jpg", PHOTO_5.read_bytes())}
    )
    assert response.status_code == 200 and response.json()[0].endswith("photo_5.jpg")


# --- origins -------------------------------------------------------------------------------------


def test_foreign_origin_cannot_change_state(url):
    files = {"files": ("photo_5.jpg", PHOTO_5.read_bytes())}
    for origin in ("http://evil.example", "null", url.replace("127.0.0.1", "localhost")):
        response = httpx.post(f"{url}/gradio_api/upload", files=files, headers={"Origin": origin})
        assert response.status_code == 403, origin
    response = httpx.post(
        f"{url}/gradio_api/queue/join", json={}, headers={"Origin": "http://evil.example"}
    )
    assert response.status_code == 403


def test_same_origin_and_no_origin_are_served(url):
    files = {"files": ("photo_5.jpg", PHOTO_5.read_bytes())}
    assert (
        httpx.post(f"{url}/gradio_api/upload", files=files, headers={"Origin": url}).status_code
        == 200
    )
    assert httpx.post(f"{url}/gradio_api/upload", files=files).status_code == 200  # gradio_client


# --- closed routes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/monitoring",
        "/monitoring/summary",
        "/monitoring/some-key",
        "/MONITORING",
        "/gradio_api/monitoring",
        "/docs",
        "/redoc",
        "/openapi.json",
        "/gradio_api/runs",
    ],
)
def test_unused_routes_are_closed(url, path):
    assert httpx.get(url + path).status_code == 404


def test_the_queue_cannot_be_bypassed(url):
    for path in ("/gradio_api/run/predict_image", "/gradio_api/api/predict_image"):
        response = httpx.post(url + path, json={"data": [None]})
        assert response.status_code in (404, 405), path
    assert httpx.post(f"{url}/gradio_api/vibe-edit", json={"prompt": "x"}).status_code == 404


def test_the_page_and_api_info_still_open(url):
    assert httpx.get(url + "/").status_code == 200
    assert "/predict_image" in httpx.get(f"{url}/gradio_api/info").json()["named_endpoints"]


# --- the components' server route (where Gradio's sketchpad uploads its layers) ------------------


BLOB_FORM = {
    "session_hash": "probe",
    "component_id": "1",
    "fn_name": "accept_blobs",
    "type": "layer",
    "id": "probe",
}


@pytest.mark.parametrize("index", ["0", "100000000"])
@pytest.mark.parametrize(
    "route",
    [
        "/gradio_api/component_server",
        "/gradio_api/component_server/",
        "/component_server",
        "/GRADIO_API/Component_Server",
    ],
)
def test_component_server_route_is_closed(served, route, index):
    """Gradio 6.31's ImageEditor.accept_blobs allocates a list as long as any index a client
    names (10**8: ~800 MB). The app has no such component; the route is closed in front of it."""
    demo, url = served
    assert not any(type(b).__name__ in ("ImageEditor", "Sketchpad") for b in demo.blocks.values())
    before = rss_mb()
    response = httpx.post(
        url + route,
        data={**BLOB_FORM, "index": index},
        files={"file": ("blob", b"\x89PNG\r\n\x1a\n")},
    )
    assert response.status_code == 404
    assert rss_mb() - before < 50


# --- settings ------------------------------------------------------------------------------------


def test_queue_and_upload_limits(served):
    demo, _ = served
    assert demo._queue.max_size == launch.QUEUE_SIZE
    assert demo.api_open is False
    assert demo.max_file_size == 20 * 10**6 or demo.max_file_size == 20 * 2**20
    assert demo.delete_cache == launch.DELETE_CACHE
    assert demo.show_error is False and not demo.enable_monitoring


def test_auth_protects_the_app(predictor):
    demo = launch.build_app(predictor)
    url = launch.launch(
        demo, host="127.0.0.1", port=free_port(), prevent_thread_lock=True, auth=("ann", "secret")
    ).rstrip("/")
    try:
        assert httpx.get(f"{url}/config").status_code == 401
        assert httpx.get(f"{url}/gradio_api/info").status_code == 401
        with httpx.Client() as session:
            login = session.post(
                f"{url}/login",
                data={"username": "ann", "password": "secret"},
                headers={"Origin": url},
            )
            assert login.status_code == 200
            assert session.get(f"{url}/config").status_code == 200
    finally:
        demo.close()


# --- the model file ------------------------------------------------------------------------------


def test_tampered_model_is_refused_unless_told(tmp_path, capsys):
    model = tmp_path / "digitpad.keras"
    shutil.copy(DEFAULT_MODEL_PATH, model)
    with open(model, "ab") as f:  # a changed file that still opens (zip readers skip the tail)
        f.write(b"tampered")
    record = json.loads((DEFAULT_MODEL_PATH.parent / "metrics.json").read_text())
    (tmp_path / "metrics.json").write_text(json.dumps(record))
    assert demo_script.main(["--model", str(model), "--port", str(free_port())]) == 1
    error = capsys.readouterr().err
    assert "does not match the SHA-256" in error and "--no-verify-model" in error
    assert load_keras_model(model, verify=False).input_shape[1:] == (28, 28)


# --- and after all that ------------------------------------------------------------------------


def test_still_serving_after_the_probes(url):
    from gradio_client import Client, handle_file

    outcome = Client(url, verbose=False).predict(
        handle_file(str(PHOTO_5)), api_name="/predict_image"
    )
    assert outcome["digit"] == 5, outcome["verdict"]
