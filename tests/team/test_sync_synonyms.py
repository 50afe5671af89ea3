"""The shop's search synonyms in team mode (issue 16, team schema step 8), on the real PostgreSQL
fixture: a supervisor adds or removes a group, every agent of the shop gets it with its next pull and
the very next query uses it (query time: nothing is reindexed); an agent may not change them (its
panel says so, the server refuses a change that got through) and nothing is half-written."""

from __future__ import annotations

import pytest

from assistant.core import outbox, replies, search, settings
from assistant.errors import ValidationError
from tests.helpers import pg

psycopg = pg.require_psycopg()
from tests.helpers.team import panel  # noqa: E402 - imports psycopg

GROUP = ["小样", "试用装"]


def found(client, query: str) -> list[str]:
    return [replies.get_reply(client.store, h.reply_id).title for h in search.search(client.store, query)]


def server_groups(team) -> list[tuple]:
    with team.admin() as admin:
        return admin.execute("SELECT words, deleted FROM shop_synonyms ORDER BY updated_at").fetchall()


def test_a_supervisors_synonyms_reach_every_agent_and_the_next_query_uses_them(tmp_path, team_of_four):
    team = team_of_four
    sup, wang, zhao = (panel(tmp_path, team, n) for n in ("sup", "wang", "zhao"))
    replies.create_reply(wang.store, title="送赠品", body="亲，下单就送试用装一份哦")
    wang.sync()
    assert found(wang, "小样") == []  # no such word in the reply

    replies.add_synonyms(sup.store, GROUP)  # offline: queued, and in the supervisor's own search at once
    assert [g.words for g in replies.synonym_groups(sup.store)] == [GROUP]
    assert server_groups(team) == []
    sup.sync()
    assert server_groups(team) == [(GROUP, False)]

    indexed = [tuple(r) for r in wang.store.query("SELECT * FROM search_docs ORDER BY id")]
    assert wang.sync().outcomes == {"added": 1}
    assert found(wang, "小样") == ["送赠品"]  # the next query
    assert [tuple(r) for r in wang.store.query("SELECT * FROM search_docs ORDER BY id")] == indexed  # no reindex
    [group] = replies.synonym_groups(wang.store)
    assert (group.words, group.shop, group.shop_name) == (GROUP, team.shop, "旗舰店")
    zhao.sync()
    assert replies.synonym_groups(zhao.store) == []  # another shop's words stay there

    # an agent may not change them: refused before anything is stored or queued
    with pytest.raises(ValidationError) as e:
        replies.add_synonyms(wang.store, ["包邮", "免运费"])
    assert "只有主管" in e.value.zh and "only a supervisor" in e.value.en
    with pytest.raises(ValidationError):
        replies.remove_synonyms(wang.store, 1)
    assert [g.words for g in replies.synonym_groups(wang.store)] == [GROUP] and outbox.size(wang.store) == 0
    # this PC's own groups (settings) still work beside the shop's, numbered first
    settings.set(wang.store, "search.synonyms", [["赠品", "礼物"]])
    assert replies.shop_synonyms(wang.store) == [["赠品", "礼物"], GROUP]
    assert replies.remove_synonyms(wang.store, 1) == ["赠品", "礼物"]

    # the supervisor removes it: a tombstone every panel drops, and the query stops using it
    assert replies.remove_synonyms(sup.store, 1) == GROUP
    sup.sync()
    assert server_groups(team) == [(GROUP, True)]
    assert wang.sync().outcomes == {"deleted": 1}
    assert found(wang, "小样") == [] and replies.synonym_groups(wang.store) == []


def test_an_agents_synonym_change_is_refused_by_the_server_and_nothing_is_half_written(tmp_path, team_of_four):
    team = team_of_four
    sup, wang = panel(tmp_path, team, "sup"), panel(tmp_path, team, "wang")
    replies.add_synonyms(sup.store, GROUP)
    sup.sync()
    wang.sync()
    with wang.store.write():  # as if wang's panel still thought it was a supervisor
        settings.set(wang.store, "team.kind", "supervisor")
    replies.add_synonyms(wang.store, ["包邮", "免运费"])
    replies.remove_synonyms(wang.store, 1)
    result = wang.sync()
    assert result.conflicts == 2 and result.pushed == 0
    assert {c.theirs["sqlstate"] for c in outbox.conflicts(wang.store)} == {"42501"}
    assert server_groups(team) == [(GROUP, False)]
    # wang's panel is back to what the server holds
    assert [g.words for g in replies.synonym_groups(wang.store)] == [GROUP]
    with team.login("wang") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("INSERT INTO shop_synonyms (id, shop, words) VALUES (gen_random_uuid(), %s, "
                     "'[\"a\", \"b\"]')", [team.shop])


@pytest.fixture
def team_of_four(shop_team):
    return shop_team
