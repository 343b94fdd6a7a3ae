from groupsms.services import groups
from tests.services.conftest import pick


def test_create_and_read_group(world):
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    detail = groups.get_group(world.actors["bo"], gid)
    assert [p.name for p in detail.participants] == ["Carla Client", "Dan Buyer"]
    assert detail.can_send
    assert [g.id for g in groups.list_groups(world.actors["ada"])] == [gid]
