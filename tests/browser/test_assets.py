"""The dashboard's static and vendored files: gzip for clients that accept it, caching headers, 304 on
revalidation, ranges and identity answered from the file as it is (in-process client; no browser)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orechain.interfaces.api import create_app

ECHARTS = "/vendor/echarts-6.1.0.min.js"
VENDOR = Path(__file__).parents[2] / "src" / "orechain" / "assets" / "vendor"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(db=tmp_path_factory.mktemp("assets") / "empty.db", load_shipped=False)
    with TestClient(app) as c:
        yield c
    app.state.orechain.store.close()


@pytest.mark.parametrize("path", [ECHARTS, "/vendor/world-atlas-2.0.2-countries-110m.json", "/static/map.js",
                                  "/static/orechain.css"])
def test_gzip_when_accepted_with_the_same_bytes_inside(client: TestClient, path: str) -> None:
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    packed = client.get(path, headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "Accept-Encoding"
    assert int(packed.headers["content-length"]) < len(plain.content)
    assert packed.content == plain.content  # httpx decodes the gzip body: the same file
    assert packed.headers["etag"] == "W/" + plain.headers["etag"]
    assert packed.headers["content-type"] == plain.headers["content-type"]


def test_echarts_shrinks_to_about_a_third() -> None:
    raw = (VENDOR / "echarts-6.1.0.min.js").read_bytes()
    assert len(gzip.compress(raw, compresslevel=6)) < 0.4 * len(raw)


def test_cache_headers_and_revalidation(client: TestClient) -> None:
    vendor = client.get(ECHARTS, headers={"Accept-Encoding": "gzip"})
    assert vendor.headers["cache-control"] == "public, max-age=31536000, immutable"
    own = client.get("/static/common.js", headers={"Accept-Encoding": "gzip"})
    assert own.headers["cache-control"] == "no-cache"
    for r, path in ((vendor, ECHARTS), (own, "/static/common.js")):
        again = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": r.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["cache-control"] == r.headers["cache-control"]


def test_a_range_request_gets_the_plain_bytes(client: TestClient) -> None:
    r = client.get(ECHARTS, headers={"Accept-Encoding": "gzip", "Range": "bytes=0-99"})
    assert r.status_code == 206 and len(r.content) == 100 and "content-encoding" not in r.headers
    assert r.content == (VENDOR / "echarts-6.1.0.min.js").read_bytes()[:100]


def test_head_answers_the_plain_headers_without_a_body(client: TestClient) -> None:
    r = client.head(ECHARTS, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.content == b"" and "content-encoding" not in r.headers
    assert r.headers["content-length"] == str((VENDOR / "echarts-6.1.0.min.js").stat().st_size)


def test_unknown_files_are_still_404(client: TestClient) -> None:
    assert client.get("/vendor/no-such.js", headers={"Accept-Encoding": "gzip"}).status_code == 404
    assert client.get("/static/../__init__.py").status_code == 404


def test_a_changed_file_is_compressed_again_and_replaces_its_old_version(tmp_path: Path) -> None:
    from fastapi import FastAPI

    from orechain.interfaces.web import Assets

    f = tmp_path / "a.js"
    f.write_text("var a = 1;\n" * 50)
    assets = Assets(directory=tmp_path, cache_control="no-cache")
    app = FastAPI()
    app.mount("/s", assets)
    with TestClient(app) as c:
        assert c.get("/s/a.js", headers={"Accept-Encoding": "gzip"}).text == f.read_text()
        f.write_text("var b = 2;\n" * 60)
        r = c.get("/s/a.js", headers={"Accept-Encoding": "gzip"})
        assert r.headers["content-encoding"] == "gzip" and r.text == f.read_text()
    assert list(assets._gz) == [str(f)]  # one version per file
