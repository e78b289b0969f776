"""Every email the site sends is a template triple rendered here and delivered by a task."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string


def absolute_url(path: str) -> str:
    return settings.SITE_URL + path


def send_templated_email(name: str, to: list[str], context: dict) -> None:
    """Render emails/<name>_{subject,body}.txt and _body.html; send once the transaction commits."""
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    text = render_to_string(f"emails/{name}_body.txt", context)
    html = render_to_string(f"emails/{name}_body.html", context)
    transaction.on_commit(lambda: send_email.enqueue(to=to, subject=subject, text=text, html=html))


@task
def send_email(*, to: list[str], subject: str, text: str, html: str) -> None:
    message = EmailMultiAlternatives(subject=subject, body=text, to=to)
    message.attach_alternative(html, "text/html")
    message.send()
