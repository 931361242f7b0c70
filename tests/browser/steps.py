"""The screens' steps, found by the seeds' labels (SPEC.md), as a person would use them."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from accounts.logon import GENERIC_FAILURE


def button(page: Page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def link(page: Page, name: str):
    return page.get_by_role("link", name=name, exact=True)


def heading(page: Page, name: str):
    return page.get_by_role("heading", name=name, exact=True)


def open_terminal_login(page: Page, option: str = "Login with OTP - Online Functions") -> None:
    page.goto("/")
    link(page, option).click()
    expect(heading(page, "User Login")).to_be_visible()


def fill_login(page: Page, user_id: str, password: str) -> None:
    expect(heading(page, "User Login")).to_be_visible()
    page.get_by_label("User ID", exact=True).fill(user_id)
    page.get_by_label("Password", exact=True).fill(password)
    button(page, "LOG IN").click()


def enter_app_code(page: Page, code: str) -> None:
    expect(heading(page, "ForgeRock Authenticator (OATH)")).to_be_visible()
    page.get_by_label("Enter OTP", exact=True).fill(code)
    button(page, "SUBMIT").click()


def enter_email_otp(page: Page, code: str) -> None:
    expect(heading(page, "Please Enter Your One Time Password, Or Request A New One")).to_be_visible()
    page.get_by_label("Enter OTP", exact=True).fill(code)
    button(page, "SUBMIT OTP").click()


def new_password_twice(page: Page, password: str) -> None:
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Confirm password", exact=True).fill(password)


def expect_logon_success(page: Page, user_id: str) -> None:
    expect(heading(page, "Logon Success")).to_be_visible()
    expect(page.locator(".last-access")).to_contain_text(user_id)
    expect(page.get_by_role("navigation", name="Account")).to_contain_text(user_id)
    expect(button(page, "Logout")).to_be_visible()
    expect(link(page, "Change Password")).to_be_visible()


def logout(page: Page) -> None:
    button(page, "Logout").click()


def expect_refused_logon(page: Page) -> None:
    """Back on "User Login" with the one refusal message (it names the lock)."""
    expect(heading(page, "User Login")).to_be_visible()
    expect(page.get_by_text(str(GENERIC_FAILURE), exact=True)).to_be_visible()
