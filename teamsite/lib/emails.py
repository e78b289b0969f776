"""Every email the site sends is a template triple rendered here and delivered by a task."""

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

from jobs.retry import delivery_task


def absolute_url(path: str) -> str:
    return settings.SITE_URL + path


def render_templated_email(name: str, context: dict) -> tuple[str, str, str]:
    """(subject, text, html) of emails/<name>_{subject,body}.txt and _body.html."""
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    text = render_to_string(f"emails/{name}_body.txt", context)
    html = render_to_string(f"emails/{name}_body.html", context)
    return subject, text, html


def send_templated_email(name: str, to: list[str], context: dict) -> None:
    """Render emails/<name>_{subject,body}.txt and _body.html; send once the transaction commits."""
    subject, text, html = render_templated_email(name, context)
    transaction.on_commit(lambda: send_email.enqueue(to=to, subject=subject, text=text, html=html))


def enqueue_email(message: EmailMessage) -> None:
    """Send a message rendered elsewhere (django-allauth's) through the same task, on commit."""
    text, html = message.body, ""
    if message.content_subtype == "html":
        text, html = "", message.body
    for content, mimetype in getattr(message, "alternatives", []):
        if mimetype == "text/html":
            html = content
    to, subject = list(message.to), str(message.subject)
    transaction.on_commit(lambda: send_email.enqueue(to=to, subject=subject, text=text, html=html))


def is_transient_mail_error(error: Exception) -> bool:
    """A server away, a connection cut, a 4xx reply: worth trying again. A 5xx reply or refused
    recipients will be refused again."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return False
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code < 500
    return isinstance(error, OSError)


@delivery_task(is_transient=is_transient_mail_error, forget_arguments=True)
def send_email(*, to: list[str], subject: str, text: str, html: str) -> None:
    deliver_email(to=to, subject=subject, text=text, html=html)


def deliver_email(*, to: list[str], subject: str, text: str, html: str) -> None:
    """Send one message now (in a task that records or retries the outcome)."""
    message = EmailMultiAlternatives(subject=subject, body=text, to=to)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()
