"""The notifications page and the bell in the top bar: a person's own in-app alerts."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from .notifications import (
    get_notification_for_user,
    notification_mark_read,
    notifications_mark_all_read,
    notifications_of,
    unread_count,
)

NOTIFICATIONS_PER_PAGE = 50


@login_required
@require_safe
def notification_list(request):
    unread_only = request.GET.get("unread") == "1"
    paginator = Paginator(
        notifications_of(request.user, unread_only=unread_only), NOTIFICATIONS_PER_PAGE
    )
    context = {
        "page": paginator.get_page(request.GET.get("page")),
        "unread_only": unread_only,
    }
    return render(request, "alerts/notifications.html", context)


@never_cache
@require_safe
def bell(request):
    """The bell with its unread count, which every page loads (htmx) after it shows: counting
    here keeps the count's query off the pages themselves."""
    if not request.user.is_authenticated:
        # Swapped into a page whose session has ended: leave the bell as it is (htmx swaps no
        # 4xx), rather than a sign-in redirect whose page would land inside the top bar.
        return HttpResponse("Sign in to see your notifications.", status=401)
    return render(request, "alerts/_bell.html", {"unread": unread_count(request.user)})


@login_required
@require_POST
def open_notification(request, notification_id):
    notification = get_notification_for_user(request.user, notification_id)
    notification_mark_read(notification=notification)
    event = notification.event
    project = event.project
    return redirect(
        reverse("runs:detail", args=[project.entity.name, project.name, event.run.run_id])
    )


@login_required
@require_POST
def mark_all_read(request):
    marked = notifications_mark_all_read(user=request.user)
    if marked:
        messages.success(request, f"Marked {marked} notification{'s' if marked != 1 else ''} read.")
    else:
        messages.info(request, "No unread notifications.")
    # Back to the list as it was filtered.
    unread_only = "?unread=1" if request.POST.get("unread") == "1" else ""
    return redirect(reverse("notifications:list") + unread_only)
