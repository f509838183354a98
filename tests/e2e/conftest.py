# The web tests' stand-in for arXiv, shared with the browser tests.
from tests.web.conftest import patch_arxiv  # noqa: F401
