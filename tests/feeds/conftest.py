# The same small cast of papers and days as the API tests.
from tests.api.conftest import DAY, _fresh_rate_limits, days, feature  # noqa: F401
