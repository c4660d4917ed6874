"""The dashboard's item pages (facility, deal, source, document) and whether they reveal that an id exists.

On an open server an unknown id gets the 404 page. On a server that needs a token for every read, a browser asking
for the page sends no token (the tab keeps it for the API calls), so the page must not answer differently for an id
that exists and one that does not: every well-formed id gets the same shell, and the API calls the page makes say
401, 403 or 404 as the token allows. In-process client; no browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orechain.access.audit import Actor
from orechain.access.users import add_user, issue_token
from orechain.evidence.store import Store
from orechain.interfaces.api import create_app
from orechain.interfaces.api.auth import AccessConfig
from orechain.interfaces.web import reads_need_token, well_formed

V1 = "/api/v1"
# (page path, API path) of each kind of item page; the known ids are in the fake evidence folder
KINDS = [("/facilities", "/facilities", "fac-pak-mine"), ("/deals", "/deals", "deal-test-mou"),
         ("/sources", "/sources", "test-stats"), ("/documents", "/documents", "{doc}")]


@pytest.fixture(scope="module")
def token_db(fake_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A copy of the fake database with a viewer and their token."""
    db = tmp_path_factory.mktemp("html") / "tokens.db"
    db.write_bytes(fake_db.read_bytes())
    with Store.open(db) as store:
        add_user(store, "reader", "viewer", Actor("cli:test"))
        token = issue_token(store, "reader", Actor("cli:test"))
    return db, token


@pytest.fixture(scope="module")
def closed(token_db: tuple[Path, str]) -> Iterator[tuple[TestClient, str]]:
    db, token = token_db
    app = create_app(db=db, load_shipped=False, access=AccessConfig(read_token_required=True))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c, token
    app.state.orechain.store.close()


@pytest.fixture(scope="module")
def doc_id(client: TestClient) -> str:
    ident: str = client.get(f"{V1}/documents").json()["data"][0]["id"]
    return ident


def _known(ident: str, doc: str) -> str:
    return ident.format(doc=doc)


def test_the_setting_is_read_from_the_app(client: TestClient, closed: tuple[TestClient, str]) -> None:
    assert reads_need_token(client.app) is False
    assert reads_need_token(closed[0].app) is True


@pytest.mark.parametrize(("page", "api", "ident"), KINDS, ids=[k[0] for k in KINDS])
def test_open_server_answers_404_for_an_unknown_id(client: TestClient, doc_id: str, page: str, api: str,
                                                   ident: str) -> None:
    known = client.get(f"{page}/{_known(ident, doc_id)}")
    assert known.status_code == 200 and 'id="page"' in known.text
    unknown = client.get(f"{page}/no-such-id")
    assert unknown.status_code == 404
    assert "There is no" in unknown.text and "no-such-id" in unknown.text
    assert client.get(f"{V1}{api}/no-such-id").status_code == 404


@pytest.mark.parametrize(("page", "api", "ident"), KINDS, ids=[k[0] for k in KINDS])
def test_token_server_answers_the_same_shell_for_known_and_unknown_ids(closed: tuple[TestClient, str], doc_id: str,
                                                                       page: str, api: str, ident: str) -> None:
    c, token = closed
    known_id = _known(ident, doc_id)
    other = "x" * len(known_id)  # same length, so the two pages can be compared byte for byte
    known, unknown = c.get(f"{page}/{known_id}"), c.get(f"{page}/{other}")
    assert (known.status_code, unknown.status_code) == (200, 200)
    assert known.text.replace(known_id, "ID") == unknown.text.replace(other, "ID")
    assert known.headers.get("content-length") == unknown.headers.get("content-length")
    assert "There is no" not in known.text + unknown.text
    # the data comes through the API, which answers as the token allows
    assert c.get(f"{V1}{api}/{known_id}").status_code == 401
    assert c.get(f"{V1}{api}/{other}").status_code == 401
    auth = {"Authorization": f"Bearer {token}"}
    assert c.get(f"{V1}{api}/{known_id}", headers=auth).status_code == 200
    assert c.get(f"{V1}{api}/{other}", headers=auth).status_code == 404


def test_a_token_server_page_shows_no_data_of_the_item(closed: tuple[TestClient, str]) -> None:
    """The shell holds no name, capacity or status: everything drawn comes from the token-carrying calls."""
    c, token = closed
    body = c.get(f"{V1}/facilities/fac-pak-mine", headers={"Authorization": f"Bearer {token}"}).json()
    name = body["facility"]["name"]
    assert name and name not in c.get("/facilities/fac-pak-mine").text


@pytest.mark.parametrize("server", ["open", "token"])
def test_a_malformed_id_is_a_404_on_either_server(client: TestClient, closed: tuple[TestClient, str],
                                                  server: str) -> None:
    c = client if server == "open" else closed[0]
    assert c.get("/facilities/" + "a" * 201).status_code == 404
    assert c.get("/deals/bad%01id").status_code == 404
    assert c.get("/sources/" + "a" * 200).status_code == (404 if server == "open" else 200)


def test_well_formed() -> None:
    assert well_formed("fac-pak-mine") and well_formed("a" * 200) and well_formed("Ünïcode id")
    assert not well_formed("") and not well_formed("a" * 201) and not well_formed("bad\x01id")
