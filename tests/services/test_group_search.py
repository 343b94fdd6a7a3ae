"""The conversation list (E7): search by group name and message text, filters, their counts and
the replies a tab is told about, always inside what the user may see (R11)."""

from __future__ import annotations

import pytest

from groupsms.errors import ValidationError
from groupsms.services import groups, inbox, messages
from tests.services.conftest import pick
from tests.services.test_messaging import sms_in

FTS_SPECIALS = [
    '"', '""', "*", "(", ")", "AND", "OR", "NOT", "NEAR", "NEAR(a b)", "a AND", '"open', "open*",
    "^open", "-open", "open:", "body:open", "'", "\\", "&", "|", "!", ":*", "<->", "a & b | !c",
    "%", "_", "🏡", "   ", "open (house", "{open}", "[x]", "+", "~", "—",
]


def _ids(found):
    return [g.id for g in found]


def test_e7_search_finds_a_group_by_its_name(world):
    bo = world.actors["bo"]
    named = groups.create_group(bo, world.numbers["main"], pick(world, "carla", "dan"), name="12 Maple Ridge closing")
    other = groups.create_group(bo, world.numbers["main"], pick(world, "erin", "fay"))
    found = groups.list_groups(bo, search="maple ridge")
    assert _ids(found) == [named]
    assert found[0].title == "12 Maple Ridge closing" and found[0].name == "12 Maple Ridge closing"
    assert found[0].people == "Carla Client, Dan Buyer"
    unnamed = next(g for g in groups.list_groups(bo) if g.id == other)
    assert unnamed.title == unnamed.people == "Erin Seller, Fay Lender" and unnamed.name == ""


def test_e7_search_finds_message_text_and_shows_the_match_as_the_snippet(world):
    bo = world.actors["bo"]
    gid = groups.create_group(bo, world.numbers["main"], pick(world, "carla", "dan"), intro=False)
    groups.create_group(bo, world.numbers["main"], pick(world, "erin", "fay"), intro=False)
    sms_in("15125550111", "The inspection is booked for Thursday", "s1")
    messages.send_message(bo, gid, "Great, see you then")
    [found] = groups.list_groups(bo, search="inspect thurs")  # prefixes of two words, both needed
    assert found.id == gid and found.matched_message
    assert found.last_message_preview == "The inspection is booked for Thursday"
    assert groups.list_groups(bo, search="inspection friday") == []
    [plain] = groups.list_groups(bo, search="Carla")
    assert plain.last_message_preview == "Great, see you then" and not plain.matched_message


def test_r11_search_by_message_text_never_finds_a_group_the_user_may_not_see(world):
    ada, bo = world.actors["ada"], world.actors["bo"]
    hidden = groups.create_group(ada, world.numbers["main"], pick(world, "carla", "gus"), name="Secret listing",
                                 intro=False)
    messages.send_message(ada, hidden, "Offer accepted on Birch Street")
    assert groups.list_groups(bo, search="birch street") == []
    assert groups.list_groups(bo, search="Secret") == []
    assert _ids(groups.list_groups(ada, search="birch street")) == [hidden]
    assert _ids(groups.list_groups(world.actors["zed"], search="birch street")) == []  # R14


@pytest.mark.parametrize("query", FTS_SPECIALS)
def test_e7_search_with_full_text_special_characters_never_errors(world, query):
    bo = world.actors["bo"]
    gid = groups.create_group(bo, world.numbers["main"], pick(world, "carla", "dan"), intro=False)
    messages.send_message(bo, gid, 'Open house "AND" NEAR the park (10 am) * bring keys & docs')
    found = groups.list_groups(bo, search=query)
    assert _ids(found) in ([], [gid])


def test_e7_special_words_are_searched_as_words(world):
    bo = world.actors["bo"]
    gid = groups.create_group(bo, world.numbers["main"], pick(world, "carla", "dan"), intro=False)
    messages.send_message(bo, gid, "Meet NEAR the park AND bring keys")
    assert _ids(groups.list_groups(bo, search='"near" AND (park')) == [gid]
    assert groups.list_groups(bo, search="NEAR OR garage") == []  # OR is a word, not an operator


def test_e7_filters_unread_created_by_me_and_locked_with_counts(world):
    bo, ada = world.actors["bo"], world.actors["ada"]
    mine = groups.create_group(bo, world.numbers["main"], pick(world, "carla", "dan"), intro=False)
    theirs = groups.create_group(ada, world.numbers["main"], pick(world, "erin", "fay"), intro=False)
    sms_in("15125550113", "Any news?", "f1")  # Erin, into Ada's group
    assert _ids(groups.list_groups(bo, filter="unread")) == [theirs]
    assert _ids(groups.list_groups(bo, filter="mine")) == [mine]
    assert groups.list_groups(bo, filter="locked") == []
    assert set(_ids(groups.list_groups(bo, filter="all"))) == {mine, theirs}
    assert inbox.conversation_counts(bo) == inbox.ConversationCounts(all=2, unread=1, mine=1, locked=0)
    assert _ids(groups.list_groups(bo, filter="unread", search="Carla")) == []  # combined with search
    groups.mark_read(bo, theirs)
    assert inbox.conversation_counts(bo).unread == 0 and inbox.conversation_counts(ada).unread == 1
    sms_in("15125550111", "STOP", "f2")  # Carla opts out: her group locks (E1)
    assert _ids(groups.list_groups(bo, filter="locked")) == [mine]
    assert inbox.conversation_counts(bo).locked == 1


def test_e7_counts_cover_only_groups_the_user_may_see(world):
    ada, bo = world.actors["ada"], world.actors["bo"]
    groups.create_group(ada, world.numbers["main"], pick(world, "carla", "gus"), intro=False)
    sms_in("15125550115", "Gus here", "c1")
    assert inbox.conversation_counts(bo) == inbox.ConversationCounts(0, 0, 0, 0)
    assert inbox.conversation_counts(ada) == inbox.ConversationCounts(1, 1, 1, 0)


@pytest.mark.parametrize("bad", ["everything", 3, ["unread"], "UNREAD"])
def test_e7_an_unknown_filter_is_refused_by_name(world, bad):
    with pytest.raises(ValidationError, match="Filter must be one of: all, unread, mine, locked"):
        groups.list_groups(world.actors["bo"], filter=bad)


def test_e7_new_replies_names_the_group_and_the_sender_only_where_the_user_may_see(world):
    ada, bo = world.actors["ada"], world.actors["bo"]
    seen = groups.create_group(bo, world.numbers["main"], pick(world, "carla", "dan"), name="Maple closing",
                               intro=False)
    groups.create_group(ada, world.numbers["main"], pick(world, "erin", "gus"), intro=False)
    start = inbox.new_replies(bo)
    assert start.items == () and start.newest_id >= 0
    messages.send_message(bo, seen, "our own send is not a reply")
    sms_in("15125550111", "On my way", "n1")
    sms_in("15125550115", "Gus: hidden from Bo", "n2")
    found = inbox.new_replies(bo, start.newest_id)
    assert [(r.group_id, r.title, r.sender, r.body) for r in found.items] == [
        (seen, "Maple closing", "Carla", "On my way")]
    assert found.newest_id == found.items[0].message_id
    assert inbox.new_replies(bo, found.newest_id).items == ()
    assert [r.title for r in inbox.new_replies(ada, start.newest_id).items] == [
        "Maple closing", "Erin Seller, Gus Inspector"]
    with pytest.raises(ValidationError):
        inbox.new_replies(bo, "latest")
