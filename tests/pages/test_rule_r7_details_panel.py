"""R7 without a browser: the right panel holds the contact's name and a chevron button that expands
to every participant, and the conversation header it is drawn from lists them all. The browser
test (`tests/e2e/test_group_chat.py`) clicks the chevron in the real app."""

from __future__ import annotations

import reflex as rx

from groupsms.components.chat_panels import details_panel
from groupsms.services import groups
from tests.services.conftest import pick


def test_r7_the_right_panel_has_the_name_and_a_chevron_that_expands_to_all_participants():
    is_open = rx.Var(_js_expr="panelOpen", _var_type=bool)
    everyone = rx.Var(_js_expr="panelParticipants", _var_type=list[dict])
    panel = str(details_panel("Pam Egret", is_open, rx.console_log("toggled"), everyone,
                              "Main office", "Created by Ada"))
    assert "Pam Egret" in panel
    chevron = panel.index('"Show participants"')  # the chevron's accessible name
    assert "aria-expanded" in panel and "toggled" in panel[chevron:]  # it toggles the list
    # The list of everyone is drawn from the participants, only while the chevron is open.
    listed = panel.index('"All participants"')
    assert panel.index("panelOpen") < listed < panel.index("panelParticipants")


def test_r7_the_header_lists_every_participant_for_the_chevron(world):
    group_id = groups.create_group(world.actors["bo"], world.numbers["main"],
                                   pick(world, "carla", "carla:secondary", "dan", "erin"))
    detail = groups.get_group(world.actors["bo"], group_id)
    assert [p.name for p in detail.participants] == ["Carla Client", "Carla Client", "Dan Buyer", "Erin Seller"]
    assert len({p.e164 for p in detail.participants}) == 4
