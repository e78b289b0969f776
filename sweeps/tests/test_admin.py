"""The admin shows sweeps, agents and slots but does not edit them (the services keep slots,
agents and counters consistent)."""

import pytest

from sweeps import services

pytestmark = pytest.mark.django_db


def test_admin_lists_sweeps_agents_and_slots_read_only(client, make_sweep, bob, django_user_model):
    sweep = make_sweep()
    agent = services.agent_create(actor=bob, sweep=sweep, host="gpu-host-1")
    command = services.heartbeat(actor=bob, agent=agent, run_states={})[0]
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw"))
    for path, shown in [
        ("sweep", sweep.name),
        ("sweepagent", "gpu-host-1"),
        ("sweeprun", command["run_id"]),
    ]:
        page = client.get(f"/admin/sweeps/{path}/")
        assert page.status_code == 200
        assert shown in page.content.decode()
        assert client.get(f"/admin/sweeps/{path}/add/").status_code == 403
    detail = client.get(f"/admin/sweeps/sweep/{sweep.pk}/change/")
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
