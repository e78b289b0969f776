"""A team's webhooks, for its admins: the list, adding one (its signing secret shown once),
changing, a new secret, deleting, and posting a test message."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_POST

from teams.access import Need, get_entity_for_user

from . import selectors
from .models import Webhook
from .webhook_forms import WebhookForm
from .webhook_http import DeliveryError
from .webhooks import (
    WebhookError,
    webhook_create,
    webhook_delete,
    webhook_rotate_secret,
    webhook_send_test,
    webhook_update,
)


def _team(request, name):
    return get_entity_for_user(request, name, need=Need.ADMIN)


def _webhook(team, key) -> Webhook:
    return get_object_or_404(Webhook, entity=team, key=key)


@login_required
def webhooks(request, name, form=None, status=200):
    team = _team(request, name)
    context = {
        "team": team,
        "webhooks": selectors.team_webhooks(team),
        "form": form or WebhookForm(),
    }
    return render(request, "alerts/webhooks.html", context, status=status)


def _show_secret(request, team, webhook, raw_secret, *, created):
    context = {"team": team, "webhook": webhook, "raw_secret": raw_secret, "created": created}
    response = render(request, "alerts/webhook_secret.html", context)
    # Shown once: no copy kept by the browser's or a proxy's cache.
    patch_cache_control(response, no_store=True, private=True)
    return response


@login_required
@require_POST
def create_webhook(request, name):
    team = _team(request, name)
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            webhook, raw_secret = webhook_create(
                entity=team, actor=request.user, **form.cleaned_data
            )
        except WebhookError as error:
            form.add_error("name", str(error))
        else:
            return _show_secret(request, team, webhook, raw_secret, created=True)
    return webhooks(request, name, form=form, status=400)


@login_required
def edit_webhook(request, name, key):
    team = _team(request, name)
    webhook = _webhook(team, key)
    form = WebhookForm(request.POST or None, webhook=webhook)
    if request.method == "POST" and form.is_valid():
        try:
            webhook_update(webhook=webhook, **form.cleaned_data)
        except WebhookError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f"Saved the webhook {webhook.name}.")
            return redirect("webhooks:list", team.name)
    status = 400 if form.is_bound else 200
    webhook.refresh_from_db(fields=["name"])  # the heading names the stored webhook
    context = {"team": team, "webhook": webhook, "form": form, "rules": webhook.rules.all()}
    return render(request, "alerts/webhook_edit.html", context, status=status)


@login_required
@require_POST
def rotate_webhook_secret(request, name, key):
    team = _team(request, name)
    webhook = _webhook(team, key)
    raw_secret = webhook_rotate_secret(webhook=webhook)
    return _show_secret(request, team, webhook, raw_secret, created=False)


@login_required
@require_POST
def delete_webhook(request, name, key):
    team = _team(request, name)
    webhook = _webhook(team, key)
    webhook_delete(webhook=webhook)
    messages.success(
        request, f"Deleted the webhook {webhook.name}; its rules no longer post to it."
    )
    return redirect("webhooks:list", team.name)


@login_required
@require_POST
def test_webhook(request, name, key):
    team = _team(request, name)
    webhook = _webhook(team, key)
    try:
        status = webhook_send_test(webhook=webhook)
    except DeliveryError as error:
        messages.error(request, f"The test to {webhook.name} failed: {error}")
    else:
        messages.success(request, f"{webhook.url_hint} answered the test with {status}.")
    return redirect("webhooks:list", team.name)
