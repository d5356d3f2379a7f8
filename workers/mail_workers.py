"""The e-mail processes: one poller per configured mailbox, and the delivery of the outbox."""

from __future__ import annotations

import asyncio
import logging

from channels.email.delivery import MailDelivery
from channels.email.intake import Accepted, MailIntake, Outcome
from channels.email.poller import MailboxPoller
from core.services.leases import LeaseKeeper
from workers.services import Services

log = logging.getLogger(__name__)


def pollers(services: Services) -> list[MailboxPoller]:
    email = services.email

    async def wake_delivery(accepted: Accepted) -> None:
        # A stored message may have queued an acknowledgement: send it now, not at the
        # delivery worker's next look (another process finds it within MAX_IDLE_S).
        if accepted.outcome is Outcome.STORED:
            services.wakeups.mail.set()

    return [
        MailboxPoller(
            mailbox=mailbox, endpoint=endpoint, uow=services.uow, on_accepted=wake_delivery,
            intake=MailIntake(mailbox=mailbox, settings=email.intake_settings,
                              uow=services.uow, ingestion=services.ingestion,
                              clock=services.clock),
            lease=LeaseKeeper(name=f"imap:{mailbox.name}", holder=services.instance,
                              uow=services.uow, clock=services.clock,
                              ttl_s=services.settings.mailbox_lease_s))
        for mailbox, endpoint in email.mailboxes
    ]


async def run_mail_intake(services: Services, stop: asyncio.Event) -> None:
    found = pollers(services)
    if not found:
        log.info("mail intake: no mailbox configured (SWITCHBOARD_IMAP_URL or [[mailboxes]])")
        await stop.wait()
        return
    async with asyncio.TaskGroup() as tasks:
        for poller in found:
            tasks.create_task(poller.run(stop), name=f"mailbox-{poller.name}")


async def run_mail_delivery(services: Services, stop: asyncio.Event) -> None:
    email = services.email
    if email.smtp is None:
        log.info("mail delivery: no SMTP server configured (SWITCHBOARD_SMTP_URL); replies "
                 "are refused")
        await stop.wait()
        return
    delivery = MailDelivery(uow=services.uow, clock=services.clock, endpoint=email.smtp,
                            wake=services.wakeups.mail)
    await delivery.run(stop)
