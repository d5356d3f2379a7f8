"""A supervisor's change to the routing configuration applies to the very next decision, in
this process and in every other one, although each process keeps what it parsed — on
SQLite and PostgreSQL."""

from __future__ import annotations

from core.domain.workforce import Role
from routing.configuration import ConfigurationLoader, RoutingConfig
from tests.conftest import Api
from workers.services import Services


async def configs(services: Services, elsewhere: ConfigurationLoader
                  ) -> tuple[RoutingConfig, RoutingConfig]:
    """What this process's router and another process's would decide with now."""
    async with services.read_uow() as uow:
        return await services.loader.load(uow), await elsewhere.load(uow)


async def put(api: Api, key: str, document: object) -> None:
    current = await api.client.get(f"/api/routing/config/{key}",
                                   headers=api.headers(Role.SUPERVISOR))
    revision = (await current.json())["revision"]
    response = await api.client.put(f"/api/routing/config/{key}",
                                    headers=api.headers(Role.SUPERVISOR),
                                    json={"document": document, "revision": revision})
    assert response.status == 200, await response.text()


async def test_a_configuration_change_reaches_the_next_decision_in_every_process(
        api: Api, services: Services):
    elsewhere = ConfigurationLoader()
    for config in await configs(services, elsewhere):  # both have parsed the defaults
        assert config.policy.offer_timeout_s == 30
        assert "sla_standard" in {p.id for p in config.sla_policies}

    await put(api, "policy", {"offer_timeout_s": 45})
    await put(api, "sla-policies", [{
        "id": "sla_everyone", "name": "Everyone", "calendar_id": "cal_office_nl",
        "first_response_s": 600, "resolution_s": 3600}])

    for config in await configs(services, elsewhere):
        assert config.policy.offer_timeout_s == 45
        assert [p.id for p in config.sla_policies] == ["sla_everyone"]

    await put(api, "policy", {"offer_timeout_s": 20})

    for config in await configs(services, elsewhere):
        assert config.policy.offer_timeout_s == 20
        assert [p.id for p in config.sla_policies] == ["sla_everyone"]
