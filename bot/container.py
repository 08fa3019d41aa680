"""Builds the services once per process; handlers receive them by name."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

from bot.config import Settings
from bot.infra.email import ConsoleEmailSender, SmtpEmailSender
from bot.infra.esia import OidcIdentityProvider
from bot.infra.esia_claims import ClaimNames, claim_list
from bot.infra.oidc_gateway import Gateway, GatewaySettings
from core.access import AccessService
from core.booking import BookingService
from core.cardfile import CardFileService
from core.catalog import Catalog
from core.clock import Clock
from core.identity import Staff
from core.login import CodePolicy, EmailLogin, EsiaLogin
from core.moderation import ModerationService
from core.ports import EmailSender, IdentityProvider
from core.privacy import PrivacyService
from core.reminders import ReminderService
from core.rules import RuleDefaults, RulesService
from core.schedule import ScheduleService
from core.visits import VisitsService
from core.waitlist import WaitlistService
from storage.db import Database


@dataclass
class Container:
    db: Database
    clock: Clock
    staff: Staff
    access: AccessService
    email_login: EmailLogin
    esia_login: EsiaLogin | None
    cardfile: CardFileService
    moderation: ModerationService
    catalog: Catalog
    schedule: ScheduleService
    booking: BookingService
    visits: VisitsService
    rules: RulesService
    waitlist: WaitlistService
    reminders: ReminderService
    privacy: PrivacyService
    consent_text: str
    esia_enabled: bool
    updates_per_minute: int  # flood control (bot.middlewares.FloodControl)

    def workflow_data(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def email_sender_from(settings: Settings) -> EmailSender:
    if settings.email_delivery == "console":
        return ConsoleEmailSender()
    return SmtpEmailSender(
        settings.smtp_host, settings.smtp_port, settings.smtp_from, security=settings.smtp_security,
        user=settings.smtp_user,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
    )


def identity_provider_from(settings: Settings, clock: Clock) -> IdentityProvider | None:
    if not settings.esia_enabled:
        return None
    gateway = Gateway(GatewaySettings(
        issuer=settings.esia_issuer, discovery_url=settings.esia_discovery_url,
        authorize_url=settings.esia_authorize_url, token_url=settings.esia_token_url,
        userinfo_url=settings.esia_userinfo_url, jwks_url=settings.esia_jwks_url,
    ))
    claim_names = ClaimNames(
        last_name=claim_list(settings.esia_claims_last_name), first_name=claim_list(settings.esia_claims_first_name),
        middle_name=claim_list(settings.esia_claims_middle_name),
        birth_date=claim_list(settings.esia_claims_birth_date), sex=claim_list(settings.esia_claims_sex),
        snils=claim_list(settings.esia_claims_snils), oms_policy=claim_list(settings.esia_claims_oms),
    )
    return OidcIdentityProvider(
        gateway, client_id=settings.esia_client_id, client_secret=settings.esia_client_secret.get_secret_value(),
        redirect_uri=settings.esia_redirect_uri, scope=settings.esia_scope, claim_names=claim_names, clock=clock,
    )


def build_container(settings: Settings, db: Database, clock: Clock, *, email_sender: EmailSender | None = None,
                    identity_provider: IdentityProvider | None = None) -> Container:
    staff = Staff(moderators=settings.moderator_ids, operators=settings.operator_ids)
    secret = (settings.login_secret or settings.bot_token).get_secret_value()
    provider = identity_provider or identity_provider_from(settings, clock)
    policy = CodePolicy(ttl=timedelta(minutes=settings.login_code_ttl_minutes),
                        max_per_email_per_hour=settings.login_codes_per_email_per_hour,
                        max_wrong_per_email_per_hour=settings.login_wrong_codes_per_email_per_hour)
    defaults = RuleDefaults(settings.default_cancel_cutoff, settings.default_offer_minutes)
    horizon = settings.booking_horizon_days
    waitlist = WaitlistService(db, clock, horizon, defaults)
    return Container(
        db=db,
        clock=clock,
        staff=staff,
        access=AccessService(db, clock, staff, settings.consent_policy_version,
                             on_reachable_again=waitlist.reachable_again),
        email_login=EmailLogin(db, clock, email_sender or email_sender_from(settings), secret, policy),
        esia_login=EsiaLogin(db, clock, provider) if provider is not None else None,
        cardfile=CardFileService(db, clock, staff),
        moderation=ModerationService(db, clock, staff),
        catalog=Catalog(db),
        schedule=ScheduleService(db, clock, horizon),
        booking=BookingService(db, clock, horizon, defaults),
        visits=VisitsService(db, clock, defaults),
        rules=RulesService(db, clock, defaults),
        waitlist=waitlist,
        reminders=ReminderService(db, clock, day_before=settings.reminder_day_before,
                                  hours_before=settings.reminder_hours_before),
        privacy=PrivacyService(db, clock, defaults),
        consent_text=settings.consent_policy_file.read_text(encoding="utf-8").strip(),
        esia_enabled=provider is not None,
        updates_per_minute=settings.rate_limit_per_minute,
    )
