"""A person's notifications: the bell's unread count, the notifications page, opening one and
marking all read. Only alerts of projects the reader may see now are shown or counted."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alerts.models import AlertDelivery, AlertEvent
from alerts.notifications import notifications_of, unread_count
from alerts.tests.factories import AlertEventFactory, InAppNotificationFactory
from teams import services
from teams.models import Membership
from tests.factories import ProjectFactory, RunFactory, add_member

LIST = reverse("notifications:list")
BELL = reverse("notifications:bell")
READ_ALL = reverse("notifications:read_all")


def open_url(notification):
    return reverse("notifications:open", args=[notification.pk])


@pytest.fixture
def notify():
    """notify(user, run, **event_fields): an unread in-app notification of a new alert."""

    def make(user, run, *, created_at=None, **fields):
        event = AlertEventFactory(run=run, **fields)
        return InAppNotificationFactory(
            user=user, event=event, created_at=created_at or timezone.now()
        )

    return make


@pytest.fixture
def bob_client(client, bob):
    client.force_login(bob)
    return client


def unread_label(response) -> str:
    return re.search(r'aria-label="([^"]*)"', response.content.decode()).group(1)


def remove(team, user):
    services.membership_remove(membership=Membership.objects.get(entity=team, user=user))


# What is shown and counted


def test_the_page_lists_the_readers_notifications_newest_first(bob_client, bob, run, notify):
    now = timezone.now()
    notify(bob, run, message="older alert", created_at=now - timedelta(hours=2))
    notify(bob, run, message="newer alert", level=AlertEvent.Level.ERROR, created_at=now)

    response = bob_client.get(LIST)

    page = response.content.decode()
    assert response.status_code == 200
    assert page.index("newer alert") < page.index("older alert")
    assert "loss too high" in page and "Error" in page
    assert run.get_absolute_url() in page
    assert "example-team/resnet" in page
    assert page.count('class="unread"') == 2


def test_a_client_alert_names_run_alert_as_its_source(bob_client, bob, run, notify):
    client_alert = run.alerts.create(title="diverged", text="loss went to nan")
    event = AlertEventFactory(
        run=run,
        rule_name="",
        client_alert=client_alert,
        message="diverged",
        detail=client_alert.text,
    )
    InAppNotificationFactory(user=bob, event=event)

    page = bob_client.get(LIST).content.decode()

    assert "run.alert()" in page and "diverged" in page
    assert "loss went to nan" in page


def test_nobody_sees_or_counts_another_persons_notifications(client, alice, bob, run, notify):
    notify(alice, run, message="alice's alert")
    client.force_login(bob)

    page = client.get(LIST).content.decode()

    assert "alice&#x27;s alert" not in page and "alice's alert" not in page
    assert unread_count(bob) == 0
    assert unread_label(client.get(BELL)) == "No unread notifications"


def test_other_channels_are_not_notifications(bob_client, bob, run, notify):
    event = AlertEventFactory(run=run, message="emailed alert")
    AlertDelivery.objects.create(event=event, channel="email", user=bob, target="bob@x.org")

    assert "emailed alert" not in bob_client.get(LIST).content.decode()
    assert unread_count(bob) == 0


def test_a_removed_member_neither_sees_nor_counts_the_private_teams_alerts(
    bob_client, bob, team, run, notify
):
    notification = notify(bob, run, message="private alert")
    assert unread_count(bob) == 1
    remove(team, bob)

    assert unread_count(bob) == 0
    assert unread_label(bob_client.get(BELL)) == "No unread notifications"
    assert "private alert" not in bob_client.get(LIST).content.decode()
    assert bob_client.post(open_url(notification)).status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None
    # Let back in, they find it again.
    add_member(team, bob)
    assert unread_count(bob) == 1


def test_a_removed_member_still_sees_the_alerts_of_public_projects(
    bob_client, alice, bob, public_team, notify
):
    add_member(public_team, bob)
    public = ProjectFactory(entity=public_team, creator=alice, name="demo", visibility="public")
    internal = ProjectFactory(entity=public_team, creator=alice, name="internal")
    notify(bob, RunFactory(project=public, author=bob), message="public alert")
    notify(bob, RunFactory(project=internal, author=bob), message="internal alert")
    assert unread_count(bob) == 2
    remove(public_team, bob)

    page = bob_client.get(LIST).content.decode()

    assert "public alert" in page and "internal alert" not in page
    assert unread_count(bob) == 1
    assert unread_label(bob_client.get(BELL)) == "1 unread notification"


def test_the_bell_shows_the_unread_count(bob_client, bob, run, notify):
    for _ in range(3):
        notify(bob, run)
    read = notify(bob, run)
    AlertDelivery.objects.filter(pk=read.pk).update(read_at=timezone.now())

    response = bob_client.get(BELL)

    assert response.status_code == 200
    assert unread_label(response) == "3 unread notifications"
    assert '<span class="bell-count" aria-hidden="true">3</span>' in response.content.decode()
    assert f'href="{LIST}"' in response.content.decode()
    # The swapped-in bell refreshes every minute, never again on load (it would loop).
    assert 'hx-trigger="every 60s"' in response.content.decode()
    assert "no-cache" in response["Cache-Control"]


def test_the_bell_caps_a_long_count_but_says_it_all(bob_client, bob, run, notify):
    event = AlertEventFactory(run=run)
    InAppNotificationFactory.create_batch(120, user=bob, event=event)

    response = bob_client.get(BELL)

    assert unread_label(response) == "120 unread notifications"
    assert ">99+</span>" in response.content.decode()


def test_pages_show_the_bell_without_counting(bob_client, bob, run, notify):
    notify(bob, run)

    page = bob_client.get(reverse("accounts:profile")).content.decode()

    bell = re.search(r'<a href="/notifications/" id="bell"[^>]*>', page).group(0)
    assert f'hx-get="{BELL}"' in bell and 'hx-trigger="load, every 60s"' in bell
    assert 'aria-label="Notifications"' in bell
    assert "bell-count" not in page


def test_signed_out_visitors_have_no_bell_and_are_sent_to_sign_in(client):
    assert 'id="bell"' not in client.get("/").content.decode()
    response = client.get(LIST)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    # The bell answers 401, which htmx does not swap into the top bar.
    assert client.get(BELL).status_code == 401


# Queries: the same whatever the number of notifications


def queries_of(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", [LIST, BELL])
def test_the_page_and_the_bell_cost_the_same_queries_for_1_or_30(
    bob_client, bob, run, notify, django_assert_num_queries, url
):
    notify(bob, run)
    with_one = queries_of(bob_client, url)
    for _ in range(29):
        notify(bob, RunFactory(project=run.project, author=bob))
    assert unread_count(bob) == 30

    with django_assert_num_queries(with_one):
        response = bob_client.get(url)
    assert response.status_code == 200
    if url == LIST:
        assert response.content.decode().count('class="unread"') == 30


# Opening one, marking all read


def test_opening_a_notification_marks_it_read_and_lands_on_the_run(bob_client, bob, run, notify):
    notification = notify(bob, run)
    other = notify(bob, run)

    response = bob_client.post(open_url(notification))

    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    notification.refresh_from_db()
    first_read = notification.read_at
    assert first_read is not None
    other.refresh_from_db()
    assert other.read_at is None
    assert unread_count(bob) == 1
    # Opening it again keeps when it was first read.
    bob_client.post(open_url(notification))
    notification.refresh_from_db()
    assert notification.read_at == first_read


def test_nobody_opens_another_persons_notification(client, alice, bob, run, notify):
    notification = notify(alice, run)
    client.force_login(bob)

    assert client.post(open_url(notification)).status_code == 404
    assert client.post(reverse("notifications:open", args=[999999])).status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_all_read_marks_the_readers_own_only(bob_client, alice, bob, run, notify):
    mine = [notify(bob, run) for _ in range(3)]
    alices = notify(alice, run)

    response = bob_client.post(READ_ALL, follow=True)

    assert response.redirect_chain == [(LIST, 302)]
    assert "Marked 3 notifications read." in response.content.decode()
    assert all(AlertDelivery.objects.get(pk=n.pk).read_at for n in mine)
    alices.refresh_from_db()
    assert alices.read_at is None
    assert unread_count(bob) == 0
    response = bob_client.post(READ_ALL, {"unread": "1"}, follow=True)
    assert response.redirect_chain == [(LIST + "?unread=1", 302)]
    assert "No unread notifications." in response.content.decode()


def test_reading_changes_nothing_and_the_actions_take_posts_only(bob_client, bob, run, notify):
    notification = notify(bob, run)

    assert bob_client.get(LIST).status_code == 200
    assert bob_client.get(BELL).status_code == 200
    assert bob_client.get(open_url(notification)).status_code == 405
    assert bob_client.get(READ_ALL).status_code == 405

    notification.refresh_from_db()
    assert notification.read_at is None


def test_the_actions_need_the_csrf_token(bob, run, notify):
    notification = notify(bob, run)
    client = Client(enforce_csrf_checks=True)
    client.force_login(bob)

    assert client.post(open_url(notification)).status_code == 403
    assert client.post(READ_ALL).status_code == 403

    notification.refresh_from_db()
    assert notification.read_at is None


def test_anonymous_actions_are_sent_to_sign_in(client, bob, run, notify):
    notification = notify(bob, run)

    for url in (open_url(notification), READ_ALL):
        response = client.post(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    notification.refresh_from_db()
    assert notification.read_at is None


# The list's filter and pages


def test_unread_only_leaves_out_what_was_read(bob_client, bob, run, notify):
    notify(bob, run, message="still unread")
    read = notify(bob, run, message="already read")
    AlertDelivery.objects.filter(pk=read.pk).update(read_at=timezone.now())

    everything = bob_client.get(LIST).content.decode()
    unread = bob_client.get(LIST, {"unread": "1"}).content.decode()

    assert "still unread" in everything and "already read" in everything
    assert 'class="read"' in everything
    assert "still unread" in unread and "already read" not in unread


def test_the_list_has_pages_of_50(bob_client, bob, run, notify):
    event = AlertEventFactory(run=run)
    now = timezone.now()
    for minutes in range(51):
        InAppNotificationFactory(user=bob, event=event, created_at=now - timedelta(minutes=minutes))
    oldest = AlertDelivery.objects.order_by("created_at").first()

    first = bob_client.get(LIST).content.decode()
    second = bob_client.get(LIST, {"page": "2"}).content.decode()

    assert first.count('/open/" class="inline">') == 50
    assert "Page 1 of 2" in first and 'rel="next"' in first
    assert second.count('/open/" class="inline">') == 1
    assert open_url(oldest) in second and open_url(oldest) not in first
    # A page past the end shows the last; nonsense shows the first.
    assert "Page 2 of 2" in bob_client.get(LIST, {"page": "9"}).content.decode()
    assert "Page 1 of 2" in bob_client.get(LIST, {"page": "x"}).content.decode()


def test_unread_pages_keep_the_filter_in_their_links(bob_client, bob, run):
    event = AlertEventFactory(run=run)
    InAppNotificationFactory.create_batch(51, user=bob, event=event)

    page = bob_client.get(LIST, {"unread": "1"}).content.decode()

    assert "?unread=1&amp;page=2" in page


def test_an_empty_list_says_so(bob_client, bob, run, notify):
    assert "No notifications yet." in bob_client.get(LIST).content.decode()
    read = notify(bob, run)
    AlertDelivery.objects.filter(pk=read.pk).update(read_at=timezone.now())
    assert "No unread notifications." in bob_client.get(LIST, {"unread": "1"}).content.decode()


def test_the_selector_reads_in_one_query(bob, run, notify, django_assert_num_queries):
    for _ in range(5):
        notify(bob, RunFactory(project=run.project, author=bob))

    with django_assert_num_queries(1):
        rows = [(n.event.run.run_id, n.event.project.entity.name) for n in notifications_of(bob)]
    assert len(rows) == 5
