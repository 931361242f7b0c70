"""The demo outbox: an e-mail backend that keeps mail in the database.

Used when PORTAL_DEMO is on and no EMAIL_URL is set, so the embedded demo
needs no mail server; /demo/outbox/ shows what was "sent". The database (not
memory) holds it so that the web process and a worker process see the same mail.
"""

from django.core.mail.backends.base import BaseEmailBackend


class DemoOutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        from .models import DemoMail

        for message in email_messages:
            DemoMail.objects.create(
                from_email=message.from_email,
                to="\n".join(message.recipients()),
                subject=message.subject,
                body=message.body,
            )
        return len(email_messages)
