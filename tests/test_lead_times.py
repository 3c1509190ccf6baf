"""The lead-time replay (`tests/leadreplay.py`): each 2025-2026 Section 232 and reciprocal
tariff action is one story of three stages (White House, public inspection, Federal
Register), and the story's lead is the hours from the White House post to publication."""

from __future__ import annotations

from pathlib import Path

from tests.leadreplay import actions, replay


def test_every_action_is_one_story_with_its_lead(tmp_path: Path):
    chosen = actions()
    assert len(chosen) == 19
    outcomes = replay(tmp_path, chosen)
    for outcome in outcomes:
        action = outcome.action
        assert outcome.stories == 1, action.title
        assert outcome.sources == (
            "whitehouse-presidential-actions",
            "federal-register-public-inspection",
            "federal-register",
        ), action.title
        assert outcome.lead_hours == action.lead_hours(action.posted), action.title
    # 11001 and 11002, one evening: two stories, each with its own three stages
    by_number = {o.action.number: o for o in outcomes}
    assert by_number["11001"].stage_keys.isdisjoint(by_number["11002"].stage_keys)
    # the lead is days, not hours: 2.5 to 11 days in this record
    leads = sorted(o.lead_hours or 0 for o in outcomes)
    assert leads[0] >= 48 and leads[-1] <= 300
