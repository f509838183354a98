"""What a new user's curl and huggingface_hub met at the edges of the API: every answer is
JSON with a sentence (never an HTML page, never a 500 for a bad parameter), HEAD works
wherever GET does, and a 429 says how long to wait."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "params, field, message",
    [
        (
            {"week": "9999-W52"},
            "week",
            "week 52 of 9999 ends after 9999-12-31, the last day this server knows",
        ),
        ({"week": "2025-W54"}, "week", "2025 has no ISO week 54"),
        ({"month": "2025-13"}, "month", "2025-13 is not a month"),
        ({"month": "0000-12"}, "month", "0000-12 is not a month"),
    ],
)
def test_a_period_that_cannot_be_is_a_400_with_a_sentence(client, params, field, message):
    response = client.get("/api/daily_papers", params)
    assert response.status_code == 400
    assert response.json() == {"error": message, "field": field}


def test_the_last_month_dates_can_hold_is_served_empty(client):
    response = client.get("/api/daily_papers", {"month": "9999-12"})
    assert response.status_code == 200 and response.json() == []
