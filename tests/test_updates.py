"""Organizers' updates: written, published, emailed once to each signer who asked, in their
language, never to hidden or withdrawn signers; milestones; the fan-out at scale."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select, update

from pledges.domain import milestones
from pledges.domain.signers import normalize_email
from pledges.extensions import db
from pledges.mail.delivery import deliver_due
from pledges.me import service as me
from pledges.models import (
    AuditEntry,
    DeliveryState,
    OutboxEmail,
    Pledge,
    PledgeUpdate,
    SendStatus,
    Signature,
    SignatureStatus,
    UpdateDelivery,
    UpdateSend,
    UpdateStatus,
)
from pledges.moderation import service as moderation
from pledges.signing import service as signing
from pledges.updates import service
from tests.factories import (
    confirmed_signature,
    french_pledge,
    make_pledge,
    make_user,
    run_by,
    signature_input,
)
from tests.helpers import (
    confirm_via_link,
    csrf_token,
    deliver_and_read,
    links_in,
    log_in,
    read_outbox,
    sign_via_form,
    text_of,
)


@pytest.fixture
def app_config(app_config: dict) -> dict:
    """Every email due at once (no rate), unless a test sets one."""
    return {**app_config, "UPDATE_EMAILS_PER_MINUTE": 0}


UNSUBSCRIBE_LINK = re.compile(r"<http://pledges\.test(/updates/unsubscribe/[\w.-]+)>")


def subscriber(pledge: Pledge, **overrides) -> Signature:
    return confirmed_signature(pledge, wants_updates=True, **overrides)


def published(
    pledge: Pledge,
    title: str = "We met the minister",
    body: str = "She listened.\n\nNext: the district.",
    **translations,
) -> PledgeUpdate:
    texts = {pledge.language: service.UpdateText(title, body)}
    texts.update({locale: service.UpdateText(*text) for locale, text in translations.items()})
    update_row = service.save_update(pledge, texts)
    service.publish(update_row)
    db.session.commit()
    return update_row


def send_all(update_row: PledgeUpdate) -> UpdateSend:
    """Start the send and run its job here, to the end."""
    send = service.start_send(update_row)
    db.session.commit()
    service.run_send(send.id)
    return send


def outbox_count(**where) -> int:
    query = select(func.count()).select_from(OutboxEmail).where(OutboxEmail.template == "update")
    return db.session.scalar(query)


# Subscribing.


def test_signing_leaves_updates_off_unless_ticked_and_the_private_page_changes_it(
    client, outbox_dir, app_ctx
):
    pledge = make_pledge()
    sign_via_form(client, pledge, email="quiet@example.org")
    sign_via_form(client, pledge, email="keen@example.org", wants_updates="y")
    page = client.get(f"/p/{pledge.slug}")
    assert "Email me updates about this pledge" in page.text
    assert (
        'name="wants_updates"' in page.text
        and "checked" not in page.text.split('name="wants_updates"')[1].split(">")[0]
    )
    wants = dict(db.session.execute(select(Signature.email, Signature.wants_updates)).all())
    assert wants == {"quiet@example.org": False, "keen@example.org": True}

    # The quiet signer changes their mind on their private page.
    mail = [m for m in deliver_and_read(outbox_dir) if m["To"] == "quiet@example.org"][-1]
    links = links_in(mail)
    confirm_via_link(client, links["confirm"])
    manage = client.get(links["me"])
    assert "Updates from the organizers" in manage.text
    answer = client.post(
        f"{links['me']}/updates",
        data={"csrf_token": csrf_token(manage.text), "up-wants_updates": "y"},
    )
    assert answer.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(
        select(Signature.wants_updates).where(Signature.email == "quiet@example.org")
    )
    assert client.get(f"{links['me']}/data.json").json["signature"]["update_emails"] is True
    # And back off: an unticked box is left out of the post.
    client.post(f"{links['me']}/updates", data={"csrf_token": csrf_token(manage.text)})
    db.session.expire_all()
    assert not db.session.scalar(
        select(Signature.wants_updates).where(Signature.email == "quiet@example.org")
    )
    # Without the form's token nothing changes.
    assert client.post(f"{links['me']}/updates", data={"up-wants_updates": "y"}).status_code == 400


# Writing and publishing.


def test_a_draft_is_private_until_published_then_on_the_page_the_wall_and_the_feed(client, app_ctx):
    pledge = make_pledge()
    draft = service.save_update(pledge, {"en": service.UpdateText("Draft news", "Not yet.")})
    db.session.commit()
    assert "Draft news" not in client.get(f"/p/{pledge.slug}").text
    assert client.get(f"/p/{pledge.slug}/updates/{draft.id}").status_code == 404

    first = published(pledge, title="First news")
    second = published(pledge, title="Second news", body="Line one.\nLine <b>two</b>.")
    page = client.get(f"/p/{pledge.slug}").text
    assert page.index("Second news") < page.index("First news")  # newest first
    assert "Draft news" not in page
    wall = client.get(f"/p/{pledge.slug}/wall").text
    assert "Second news" in wall and "First news" in wall
    one = client.get(f"/p/{pledge.slug}/updates/{second.id}")
    assert one.status_code == 200 and "Line <b>two</b>" not in one.text
    assert "Line one.<br>" in one.text
    feed = client.get(f"/p/{pledge.slug}/feed.atom").text
    assert f"/update/{first.id}</id>" in feed and "Second news" in feed
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "update.publish")
        )
        == 2
    )


def test_an_update_reads_in_the_readers_language_where_translated(client, app_ctx):
    pledge = french_pledge()
    news = published(pledge, title="Good news", fr=("Bonne nouvelle", "Le ministre a écouté."))
    french = client.get(f"/p/{pledge.slug}/updates/{news.id}?lang=fr")
    assert "Bonne nouvelle" in french.text and "Le ministre a écouté." in french.text
    assert "Good news" in client.get(f"/p/{pledge.slug}/updates/{news.id}?lang=en").text


def test_a_translation_half_filled_is_refused_and_nothing_is_stored(app, backend):
    user_email = "org@example.org"
    with app.app_context():
        pledge = french_pledge()
        run_by(pledge, make_user(user_email))
        slug = pledge.slug
    client = app.test_client()
    log_in(client, user_email)
    form = client.get(f"/organize/{slug}/updates/new")
    assert form.status_code == 200
    answer = client.post(
        f"/organize/{slug}/updates/new",
        data={
            "csrf_token": csrf_token(form.text),
            "title_en": "News",
            "body_en": "Text",
            "title_fr": "Nouvelles",
            "body_fr": "",
        },
    )
    assert answer.status_code == 400
    assert "A translation needs both its title and its text." in answer.text
    missing = client.post(
        f"/organize/{slug}/updates/new",
        data={"csrf_token": csrf_token(form.text), "title_en": "", "body_en": ""},
    )
    assert missing.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PledgeUpdate)) == 0


# Emailing.


def test_each_subscriber_gets_one_email_in_their_language_with_one_click_unsubscribe(
    app, outbox_dir, app_ctx
):
    pledge = french_pledge()
    english = subscriber(pledge, email="en@example.org")
    subscriber(pledge, email="fr@example.org", locale="fr")
    confirmed_signature(pledge, email="no@example.org")  # did not ask
    news = published(pledge, title="Good news", fr=("Bonne nouvelle", "Le ministre a écouté."))
    send = send_all(news)
    messages = {m["To"]: m for m in deliver_and_read(outbox_dir)}
    assert set(messages) >= {"en@example.org", "fr@example.org"}
    assert "no@example.org" not in {
        m["To"]
        for m in read_outbox(outbox_dir)
        if "news" in m["Subject"].lower() or "nouvelle" in m["Subject"].lower()
    }
    assert messages["en@example.org"]["Subject"] == "Good news"
    assert messages["fr@example.org"]["Subject"] == "Bonne nouvelle"
    assert "Le ministre a écouté." in text_of(messages["fr@example.org"])
    assert "arrêter" in text_of(messages["fr@example.org"]).lower()  # interface words in French
    for message in (messages["en@example.org"], messages["fr@example.org"]):
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert UNSUBSCRIBE_LINK.fullmatch("".join(message["List-Unsubscribe"].split()))
    assert service.progress(send) == service.SendProgress(queued=0, sent=2, failed=0, skipped=0)
    assert db.session.get(UpdateSend, send.id).status == SendStatus.DONE

    # One POST from the mail client, no session, no CSRF token: no more updates.
    link = UNSUBSCRIBE_LINK.fullmatch(
        "".join(messages["en@example.org"]["List-Unsubscribe"].split())
    ).group(1)
    mail_client = app.test_client()
    opened = mail_client.get(link)
    assert opened.status_code == 200 and "Stop update emails" in opened.text
    db.session.expire_all()
    assert db.session.get(Signature, english.id).wants_updates  # opening changed nothing
    done = mail_client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert "You get no update emails for this pledge." in done.text
    db.session.expire_all()
    assert not db.session.get(Signature, english.id).wants_updates
    assert mail_client.post(link).status_code == 200  # again: harmless
    # The reminders' link and the updates' are not interchangeable.
    assert (
        mail_client.post(
            link.replace("/updates/unsubscribe/", "/reminders/unsubscribe/")
        ).status_code
        == 404
    )


ARABIC_COMMITMENTS = [
    "سأستمع أولاً إلى صانعات السلام.",
    "سأتحدى الأفكار العنيفة عن الرجولة.",
    "سأشارك في الحوارات في كل دورة.",
]
# An address whose links hold an "&", which the HTML body must write "&amp;".
BASE_WITH_AMPERSAND = "http://pledges.test/join&act"
HIDE_TOKEN = re.compile(re.escape(BASE_WITH_AMPERSAND) + r"/me/hide/([\w-]+)")


@pytest.mark.config(BASE_URL=BASE_WITH_AMPERSAND)
def test_each_subscriber_s_update_email_is_the_template_rendered_for_them(app_ctx):
    """The fan-out renders the email once per language and puts each signer's own links
    in: byte for byte what rendering the template for that signer gives, in the
    translation they read (or the pledge's own, in their interface language), right to
    left too, with links and text that HTML must escape."""
    from flask import render_template

    from pledges.domain.signers import hide_link_signature_or_404
    from pledges.infrastructure.i18n import signer_language
    from pledges.mail.sealing import unseal
    from tests.factories import translate

    pledge = french_pledge()
    translate(pledge, "ar", "حلفاء من أجل السلام", "رجال ونساء معاً.", ARABIC_COMMITMENTS)
    texts = {
        "en": ("Good <news> & more", 'She listened.\n\nNext: the "district".'),
        "fr": ("Bonne nouvelle & plus", "Le ministre a écouté."),
        "ar": ("أخبار سارة", "استمعت الوزيرة.\n\nالتالي: المنطقة."),
    }
    news = published(pledge, *texts["en"], fr=texts["fr"], ar=texts["ar"])
    # Urdu: no translation of the update, so its English text in an Urdu (RTL) email.
    signers = [
        subscriber(pledge, email=f"{locale}{n}@example.org", locale=locale)
        for locale in ("en", "fr", "ar", "ur")
        for n in (1, 2)
    ]
    send_all(news)
    rows = {
        row.signature_id: row
        for row in db.session.scalars(select(OutboxEmail).where(OutboxEmail.template == "update"))
    }
    assert set(rows) == {signer.id for signer in signers}
    hide_tokens = set()
    for signer in signers:
        row = rows[signer.id]
        body_text, body_html = unseal(row.body_text), unseal(row.body_html)
        # The hide link is a fresh token; it must be this signer's.
        (hide_token,) = set(HIDE_TOKEN.findall(body_text))
        assert hide_link_signature_or_404(hide_token).id == signer.id
        hide_tokens.add(hide_token)
        unsubscribe_url = (
            f"{BASE_WITH_AMPERSAND}/updates/unsubscribe/{service.unsubscribe_token(signer)}"
        )
        assert unseal(row.list_unsubscribe) == unsubscribe_url
        title, body = texts.get(signer.locale, texts["en"])
        content = f"?content={signer.locale}" if signer.locale in texts else ""
        with signer_language(signer.locale):
            expected = [
                render_template(
                    f"email/update.{kind}",
                    subject=title,
                    update=service.UpdateText(title, body),
                    update_url=f"{BASE_WITH_AMPERSAND}/p/{pledge.slug}/updates/{news.id}{content}",
                    unsubscribe_url=unsubscribe_url,
                    hide_url=f"{BASE_WITH_AMPERSAND}/me/hide/{hide_token}",
                )
                for kind in ("txt", "html")
            ]
        assert [body_text, body_html] == expected, signer.email
        assert row.subject == title
        assert "join&amp;act/me/hide/" in body_html and "join&act/me/hide/" not in body_html
        assert ('dir="rtl"' in body_html) == (signer.locale in ("ar", "ur"))
    assert len(hide_tokens) == len(signers)


@pytest.mark.parametrize("token", ["1", "MQ.forged", "x" * 300])
def test_a_forged_update_unsubscribe_link_is_not_found(client, token, app_ctx):
    assert client.post(f"/updates/unsubscribe/{token}").status_code == 404


def test_discreet_signers_get_a_neutral_subject_and_sender(app, outbox_dir, app_ctx):
    pledge = make_pledge()
    subscriber(pledge, email="discreet@example.org", discreet_mail=True)
    send_all(published(pledge, title="Allies met the minister"))
    (message,) = [
        m
        for m in deliver_and_read(outbox_dir)
        if m["To"] == "discreet@example.org" and m["Subject"] == "News"
    ]
    assert app.config["DISCREET_SENDER_NAME"] in message["From"]
    assert "Allies met the minister" in text_of(message)  # the body still works


def test_hidden_withdrawn_and_unconfirmed_signers_get_no_update(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    kept = subscriber(pledge, email="kept@example.org")
    hidden = subscriber(pledge, email="hidden@example.org")
    withdrawn = subscriber(pledge, email="gone@example.org")
    signing.sign(pledge, signature_input(pledge, email="pending@example.org", wants_updates=True))
    db.session.commit()
    _hide(hidden)
    me.withdraw(withdrawn)
    db.session.commit()
    assert service.subscriber_count(pledge) == 1
    send = send_all(published(pledge))
    rows = db.session.scalars(
        select(UpdateDelivery.signature_id).where(UpdateDelivery.send_id == send.id)
    ).all()
    assert rows == [kept.id]
    recipients = [
        m["To"] for m in deliver_and_read(outbox_dir) if m["Subject"] == "We met the minister"
    ]
    assert recipients == ["kept@example.org"]


def _hide(signature: Signature) -> None:
    """A moderator hides the signature, as from the moderation queue."""
    moderation.hide(signature, reason="Spam")
    db.session.commit()


def test_a_signer_hidden_after_the_send_began_is_skipped(app, app_ctx):
    pledge = make_pledge()
    subscriber(pledge)
    later = subscriber(pledge)
    send = service.start_send(published(pledge))
    db.session.commit()
    _hide(later)
    service.run_send(send.id)
    assert service.progress(send) == service.SendProgress(queued=1, sent=0, failed=0, skipped=1)
    deliver_due()
    assert service.progress(send).sent == 1


@pytest.mark.config(UPDATE_BATCH_SIZE=3, UPDATE_EMAILS_PER_MINUTE=0)
def test_a_run_killed_between_batches_and_run_again_writes_one_email_per_signer(app, app_ctx):
    pledge = make_pledge()
    signers = [subscriber(pledge) for _ in range(8)]
    send = service.start_send(published(pledge))
    db.session.commit()

    class Killed(Exception):
        pass

    batches: list[int] = []

    def kill_after_two_batches(send_id: int) -> None:
        batches.append(send_id)
        if len(batches) == 2:
            raise Killed

    service.after_batch.append(kill_after_two_batches)
    try:
        with pytest.raises(Killed):
            service.run_send(send.id)
    finally:
        service.after_batch.remove(kill_after_two_batches)
    db.session.rollback()
    assert outbox_count() == 6
    # A batch cut off mid-way (the process died before its commit) leaves nothing behind.
    db.session.execute(
        update(UpdateDelivery)
        .where(UpdateDelivery.state == DeliveryState.QUEUED)
        .values(state=DeliveryState.OUTBOXED)
    )
    db.session.rollback()
    service.run_send(send.id)
    service.run_send(send.id)  # and once more: nothing left to do
    per_signer = dict(
        db.session.execute(
            select(OutboxEmail.signature_id, func.count())
            .where(OutboxEmail.template == "update")
            .group_by(OutboxEmail.signature_id)
        ).all()
    )
    assert per_signer == {s.id: 1 for s in signers}
    assert db.session.get(UpdateSend, send.id).status == SendStatus.DONE


@pytest.mark.config(UPDATE_BATCH_SIZE=50, UPDATE_EMAILS_PER_MINUTE=60)
def test_the_rate_spaces_the_emails_and_pause_takes_back_what_waits(app, app_ctx):
    pledge = make_pledge()
    for _ in range(4):
        subscriber(pledge)
    send = service.start_send(published(pledge))
    db.session.commit()
    assert service.fan_out_batch(send.id)
    times = sorted(
        db.session.scalars(
            select(OutboxEmail.next_attempt_at).where(OutboxEmail.template == "update")
        )
    )
    assert [round((t - times[0]).total_seconds()) for t in times] == [0, 1, 2, 3]

    # Deliver what is due now (the first), then pause: the other three come back.
    deliver_due()
    assert service.pause(db.session.get(UpdateSend, send.id)) == 3
    db.session.commit()
    progress = service.progress(send)
    assert (progress.sent, progress.queued) == (1, 3)
    assert outbox_count() == 1
    service.run_send(send.id)  # a paused send's job does nothing
    assert outbox_count() == 1

    assert service.resume(db.session.get(UpdateSend, send.id))
    db.session.commit()
    assert service.fan_out_batch(send.id)
    assert not service.fan_out_batch(send.id)
    per_signer = db.session.execute(
        select(OutboxEmail.signature_id, func.count())
        .where(OutboxEmail.template == "update")
        .group_by(OutboxEmail.signature_id)
    ).all()
    assert len(per_signer) == 4 and {n for _, n in per_signer} == {1}


def test_an_update_is_emailed_once_and_only_once_published(app, app_ctx):
    pledge = make_pledge()
    subscriber(pledge)
    draft = service.save_update(pledge, {"en": service.UpdateText("T", "B")})
    db.session.commit()
    with pytest.raises(service.UpdateError):
        service.start_send(draft)
    db.session.rollback()
    service.publish(draft)
    db.session.commit()
    service.start_send(draft)
    db.session.commit()
    with pytest.raises(service.UpdateError):
        service.start_send(draft)


# Milestones.


def test_reaching_a_goal_drafts_one_update_and_the_next_goal_takes_over(client, app_ctx):
    pledge = make_pledge(goal=None)
    service.set_goals(pledge, [2, 3, 10])
    db.session.commit()
    assert db.session.get(Pledge, pledge.id).goal == 2
    confirmed_signature(pledge)
    assert db.session.scalar(select(func.count()).select_from(PledgeUpdate)) == 0
    confirmed_signature(pledge)
    drafts = db.session.scalars(select(PledgeUpdate)).all()
    assert [(d.milestone, d.status, d.title) for d in drafts] == [
        (2, UpdateStatus.DRAFT, "We reached 2 signers")
    ]
    db.session.expire_all()
    assert db.session.get(Pledge, pledge.id).goal == 3
    confirmed_signature(pledge)
    assert db.session.get(Pledge, pledge.id).goal == 10
    assert sorted(db.session.scalars(select(PledgeUpdate.milestone))) == [2, 3]
    with pytest.raises(service.UpdateError):
        service.set_goals(pledge, [3, 20])  # 3 is not above the count
    db.session.rollback()


def test_milestone_drafts_are_written_in_each_language_of_the_pledge(app_ctx):
    pledge = french_pledge()
    milestones.set_goals(pledge, [1, 1000])
    db.session.commit()
    confirmed_signature(pledge)
    draft = db.session.scalar(select(PledgeUpdate))
    assert draft.title == "We reached 1 signer"
    (french,) = draft.translations
    assert french.locale == "fr" and "Alliés pour la paix" in french.body
    assert french.title == "Nous avons atteint 1 signataire"
    assert "1\u202f000" in french.body  # the next goal, written the French way


def test_concurrent_signings_across_a_goal_draft_it_once(app, backend):
    with app.app_context():
        pledge = make_pledge(goal=None)
        milestones.set_goals(pledge, [5, 50])
        db.session.commit()
        pledge_id = pledge.id
        inputs = [signature_input(pledge) for _ in range(8)]
        for data in inputs:
            signing.sign(pledge, data)
        db.session.commit()
        ids = [signing._signature_by_email(pledge, normalize_email(d.email)).id for d in inputs]
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def confirm(signature_id: int) -> None:
        try:
            with app.app_context():
                signature = db.session.get(Signature, signature_id)
                barrier.wait()
                signing.confirm(signature)
                db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=confirm, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(Signature)
                .where(Signature.status == SignatureStatus.CONFIRMED)
            )
            == 8
        )
        drafts = db.session.scalars(
            select(PledgeUpdate.milestone).where(PledgeUpdate.pledge_id == pledge_id)
        ).all()
        assert drafts == [5]
        assert db.session.get(Pledge, pledge_id).goal == 50


# Organizer pages.


def test_the_organizer_writes_publishes_sends_and_follows_progress(app, backend, outbox_dir):
    with app.app_context():
        pledge = make_pledge()
        run_by(pledge, make_user("org@example.org"))
        for _ in range(3):
            subscriber(pledge)
        slug = pledge.slug
    client = app.test_client()
    log_in(client, "org@example.org")
    form = client.get(f"/organize/{slug}/updates/new")
    made = client.post(
        f"/organize/{slug}/updates/new",
        data={"csrf_token": csrf_token(form.text), "title_en": "Minister met", "body_en": "Good."},
    )
    assert made.status_code == 302
    preview = client.get(made.location)
    assert "Minister met" in preview.text and "Publish" in preview.text
    token = csrf_token(preview.text)
    client.post(made.location + "/publish", data={"csrf_token": token})
    page = client.get(made.location)
    assert "3 signers asked for updates by email." in page.text
    client.post(made.location + "/send", data={"csrf_token": token})
    with app.app_context():
        # The embedded job runner works in a thread; wait for it to finish.
        for _ in range(200):
            send = db.session.scalar(select(UpdateSend))
            if send.status == SendStatus.DONE:
                break
            db.session.rollback()
            threading.Event().wait(0.05)
        assert send.status == SendStatus.DONE
        deliver_due()
    page = client.get(made.location)
    assert re.search(r"<dt>Sent</dt>\s*<dd>3</dd>", page.text), page.text
    index = client.get(f"/organize/{slug}/updates")
    assert "Minister met" in index.text
    goals = client.post(
        f"/organize/{slug}/updates/goals",
        data={"csrf_token": csrf_token(index.text), "goals": "10, ten"},
    )
    assert goals.status_code == 400 and "is not a signature count" in goals.text
    goals = client.post(
        f"/organize/{slug}/updates/goals",
        data={"csrf_token": csrf_token(index.text), "goals": "1000, 100"},
    )
    assert goals.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Pledge.goal).where(Pledge.slug == slug)) == 100


def test_another_organizers_updates_are_not_found(app, backend):
    with app.app_context():
        pledge = make_pledge()
        news = published(pledge)
        make_user("stranger@example.org")
        slug, news_id = pledge.slug, news.id
    client = app.test_client()
    log_in(client, "stranger@example.org")
    assert client.get(f"/organize/{slug}/updates").status_code == 404
    assert client.get(f"/organize/{slug}/updates/{news_id}").status_code == 404


def test_the_command_carries_on_a_send_whose_job_died(app, runner, app_ctx):
    pledge = make_pledge()
    signers = [subscriber(pledge) for _ in range(3)]
    send = service.start_send(published(pledge))
    db.session.commit()  # and its job never ran: the process died
    result = runner.invoke(args=["send-updates"])
    assert result.exit_code == 0, result.output
    assert "1 update send carried on" in result.output
    db.session.expire_all()
    assert db.session.get(UpdateSend, send.id).status == SendStatus.DONE
    assert sorted(
        db.session.scalars(select(OutboxEmail.signature_id).where(OutboxEmail.template == "update"))
    ) == [s.id for s in signers]
    assert "0 update sends carried on" in runner.invoke(args=["send-updates"]).output
