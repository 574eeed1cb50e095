"""The council's usage page gets the handoff service figures from /api/v1/usage/service: charts drawn by the
server, their exact tables and the CSV of a scripted day (fixed clocks); administration codes only."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from bot.db import get_engine
from bot.secretariat import usage
from bot.secretariat.tokens import create_token
from tests.conftest import free_port
from tests.handoff.helpers import fake_rasa, portal_settings, running_portal
from tests.handoff.test_figures import scripted_day


async def test_service_figures_of_a_scripted_day_for_the_council_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUMECRIVAIN_HANDOFF_WATCHDOG_SECONDS", "3600")
    scripted_day(tmp_path)  # Monday 11 March 2024 in tmp_path/handoff.db
    database_url = f"sqlite:///{tmp_path / 'handoff.db'}"
    admin = create_token(get_engine(database_url), "Métropole", is_admin=True)
    commune = create_token(get_engine(database_url), "Mairie de Seclin", commune="59560")
    async with fake_rasa() as rasa, running_portal(portal_settings(rasa.url, database_url, free_port())) as url, \
            aiohttp.ClientSession() as http:
        async def get(token: str | None, query: str) -> tuple[int, dict]:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with http.get(f"{url}/api/v1/usage/service{query}", headers=headers) as resp:
                return resp.status, await resp.json()

        assert (await get(None, ""))[0] == 401
        assert (await get(commune, ""))[0] == 403
        assert (await get(admin, "?since=11-03-2024"))[0] == 400
        assert (await get(admin, "?since=0001-01-01"))[0] == 400
        status, view = await get(admin, "?since=2024-03-11&until=2024-03-11")
    assert status == 200 and view["period"] == {"since": "2024-03-11", "until": "2024-03-11"}
    blocks = {block["key"]: block for block in view["blocks"]}
    assert list(blocks) == ["requests", "wait", "callbacks", "satisfaction", "channels"]
    assert all(b["svg"].startswith("<svg") and "<script" not in b["svg"] for b in blocks.values())
    assert blocks["requests"]["rows"] == [["11/03/2024", "5", "3", "1", "1"]]
    assert blocks["wait"]["rows"] == [["11/03/2024", "2,0 min", "10,0 min", "3"]]
    assert blocks["callbacks"]["rows"] == [["11/03/2024", "2", "1", "1"]]
    assert blocks["satisfaction"]["rows"] == [["11/03/2024", "3", "2", "1", "0", "1"]]
    assert blocks["channels"]["rows"][0] == ["SMS", "2", "1", "0", "1", "1,0 min", "1,0 min", "0 sur 1", "0 sur 1"]
    assert view["csv"].splitlines()[1] == "2024-03-11,sms,2,1,0,1,60,60,1,0,1,0,0,1"
    assert "alice" not in str(view).lower()  # no agent named on the council's page


def test_cli_prints_the_service_figures_as_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scripted_day(tmp_path)
    database_url = f"sqlite:///{tmp_path / 'handoff.db'}"
    assert usage.main(["--service", "--db-url", database_url, "--since", "2024-03-11", "--until", "2024-03-12"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        "2024-03-11,sms,2,1,0,1,60,60,1,0,1,0,0,1",
        "2024-03-11,webchat,3,2,1,0,360,600,1,1,2,1,0,0",
        "2024-03-12,webchat,1,1,0,0,180,180,0,0,0,0,0,0",
    ]
