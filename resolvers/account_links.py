"""Password reset and invitations: `requestPasswordReset`, `resetPassword`,
`resendInvitation` (`createUser(input: {invite: true})` lives with the other user mutations).

The rules live in `app.account_links`; this module decodes inputs, runs one transaction per
call, sends the mails and shapes the payloads. `requestPasswordReset` answers the same for any
well-formed email, at once: the account lookup, the link and the mail all happen after the
answer (`app.background`), so neither the answer nor its timing tells whether the account
exists.
"""

from __future__ import annotations

import strawberry

from app import account_links, background, passwords, validation
from app.errors import bad_input
from app.mailer import deliver, send_mail_later
from app.writes import run_write
from resolvers.context import Info
from resolvers.relay import from_global_id
from resolvers.users import UserType

SAME_ANSWER = (
    "If an account with a password has this email, a link to choose a new password is on its "
    "way; it works once, within the hour."
)
# Longer than any link secret this service issues; a longer or non-ASCII one is simply wrong.
LINK_SECRET_MAX = 200


@strawberry.input
class RequestPasswordResetInput:
    email: str


@strawberry.type
class RequestPasswordResetPayload:
    message: str = strawberry.field(description="The same for every email, known or not.")


@strawberry.input
class ResetPasswordInput:
    token: str = strawberry.field(description="The `token` of the mailed link (after '#token=').")
    new_password: str = strawberry.field(
        description="At least 12 characters, not a common or guessable one."
    )


@strawberry.type
class ResetPasswordPayload:
    email: str = strawberry.field(description="The account's email: sign in with it now.")


@strawberry.input
class ResendInvitationInput:
    user_id: strawberry.ID


@strawberry.type
class ResendInvitationPayload:
    user: UserType
    invitation_sent: bool = strawberry.field(
        description="Whether the mail went out (false when the mail server failed)."
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Mail a single-use link (valid one hour) to choose a new password. Answers "
        "the same whether or not the email has an account; at most 3 mails per account an hour."
    )
    async def request_password_reset(
        self, info: Info, input: RequestPasswordResetInput
    ) -> RequestPasswordResetPayload:
        db, settings = info.context.db, info.context.settings
        email = validation.email("email", input.email)

        async def reset() -> None:
            mail = await run_write(
                db, lambda session: account_links.request_reset(session, settings, email)
            )
            if mail is not None:
                send_mail_later(settings, mail)

        background.run_later("password reset request", reset)
        return RequestPasswordResetPayload(message=SAME_ANSWER)

    @strawberry.mutation(
        description="Choose a new password with a mailed link (reset or invitation); every "
        "token of the account is revoked. The link then stops working."
    )
    async def reset_password(self, info: Info, input: ResetPasswordInput) -> ResetPasswordPayload:
        ctx = info.context
        secret = input.token.strip()
        if not secret or len(secret) > LINK_SECRET_MAX or not secret.isascii():
            raise bad_input("token", "This link is invalid, used or expired; ask for a new one.")
        password_hash = await passwords.hash_new_password("newPassword", input.new_password)
        user = await run_write(
            ctx.db, lambda session: account_links.redeem(session, secret, password_hash)
        )
        return ResetPasswordPayload(email=user.email)

    @strawberry.mutation(
        description="Mail a new invitation link to a user who has not chosen a password yet "
        "(admins); earlier links stop working."
    )
    async def resend_invitation(
        self, info: Info, input: ResendInvitationInput
    ) -> ResendInvitationPayload:
        ctx = info.context
        user_id = from_global_id(input.user_id, "User", "userId")
        user, mail = await ctx.write(
            lambda session, scope: account_links.resend_invitation(
                session, scope, ctx.settings, user_id
            )
        )
        sent = await deliver(ctx.settings, mail)
        return ResendInvitationPayload(user=UserType.from_model(user), invitation_sent=sent)
