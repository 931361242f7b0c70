import pytest


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # The portal's CSP (rightly) refuses injected scripts; axe is a test tool, not the page's.
    return {**browser_context_args, "bypass_csp": True}
