"""Signing in to the console through the Cognito user pool (its public, unauthenticated API).

The console's own form sends the password to InitiateAuth (USER_PASSWORD_AUTH); Cognito answers with a
challenge until the user is through: a new password (a user an administrator created), an authenticator
app to set up (MFA is required), then the app's code. The access token Cognito issues is the session:
every request shows it to GetUser, which fails once it expired or the user signed out everywhere; after
that, the token's own claims (user name, groups) are Cognito's and can be trusted.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from facewatch.adapters import aws

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

# Errors that mean "these credentials or this code are wrong", shown to the user as such.
REFUSALS = frozenset(
    {
        "NotAuthorizedException",
        "UserNotFoundException",
        "CodeMismatchException",
        "InvalidPasswordException",
        "ExpiredCodeException",
        "EnableSoftwareTokenMFAException",
        "PasswordResetRequiredException",
        "UserNotConfirmedException",
        "TooManyRequestsException",
        "LimitExceededException",
        "InvalidParameterException",
    }
)


class SignInRefusedError(Exception):
    """Cognito refused the step; `code` is its error code (the page says what to do)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class SignedOutError(Exception):
    """The session token is missing, expired or revoked."""


@dataclass(frozen=True, slots=True)
class SignInStep:
    """Where the sign-in stands: a challenge to answer (with Cognito's session for it) or a token."""

    challenge: str | None = None
    session: str | None = None
    access_token: str | None = None
    expires_in_seconds: int = 0
    # MFA_SETUP: the authenticator app's secret, shown once to the user setting it up.
    secret_code: str | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    username: str
    groups: frozenset[str] = field(default_factory=frozenset)


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


class CognitoSignIn:
    def __init__(self, client_id: str, cognito: CognitoIdentityProviderClient | None = None) -> None:
        self._client_id = client_id
        self._cognito: aws.LazyClient[CognitoIdentityProviderClient] = aws.LazyClient("cognito-idp", cognito)

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._cognito.get(), operation)(**kwargs)
        except ClientError as error:
            code = aws.error_code(error)
            if code in REFUSALS:
                raise SignInRefusedError(code) from error
            raise

    def _step(self, response: dict[str, Any]) -> SignInStep:
        result = response.get("AuthenticationResult")
        if result:
            return SignInStep(access_token=result["AccessToken"], expires_in_seconds=int(result.get("ExpiresIn", 3600)))
        challenge = response.get("ChallengeName")
        session = response.get("Session")
        if challenge == "MFA_SETUP":
            associated = self._call("associate_software_token", Session=session)
            return SignInStep(challenge=challenge, session=associated["Session"], secret_code=associated["SecretCode"])
        if challenge in ("NEW_PASSWORD_REQUIRED", "SOFTWARE_TOKEN_MFA"):
            return SignInStep(challenge=challenge, session=session)
        # SMS_MFA, SELECT_MFA_TYPE, custom challenges: the pool this stack creates offers none of them.
        raise SignInRefusedError(f"UnsupportedChallenge:{challenge}")

    def start(self, username: str, password: str) -> SignInStep:
        return self._step(
            self._call(
                "initiate_auth",
                ClientId=self._client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
        )

    def new_password(self, username: str, session: str, password: str) -> SignInStep:
        return self._step(
            self._call(
                "respond_to_auth_challenge",
                ClientId=self._client_id,
                ChallengeName="NEW_PASSWORD_REQUIRED",
                Session=session,
                ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": password},
            )
        )

    def set_up_mfa(self, username: str, session: str, code: str) -> SignInStep:
        verified = self._call(
            "verify_software_token", Session=session, UserCode=code, FriendlyDeviceName="facewatch console"
        )
        return self._step(
            self._call(
                "respond_to_auth_challenge",
                ClientId=self._client_id,
                ChallengeName="MFA_SETUP",
                Session=verified["Session"],
                ChallengeResponses={"USERNAME": username},
            )
        )

    def mfa_code(self, username: str, session: str, code: str) -> SignInStep:
        return self._step(
            self._call(
                "respond_to_auth_challenge",
                ClientId=self._client_id,
                ChallengeName="SOFTWARE_TOKEN_MFA",
                Session=session,
                ChallengeResponses={"USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": code},
            )
        )

    def identify(self, access_token: str) -> Identity:
        """Who holds this token, if Cognito still accepts it."""
        try:
            user = self._cognito.get().get_user(AccessToken=access_token)
        except ClientError as error:
            if aws.error_code(error) in ("NotAuthorizedException", "UserNotFoundException"):
                raise SignedOutError from error
            raise
        claims = _claims(access_token)
        return Identity(username=user["Username"], groups=frozenset(claims.get("cognito:groups", [])))

    def sign_out(self, access_token: str) -> None:
        """Revokes every token of the user (GlobalSignOut); an already invalid token is fine."""
        try:
            self._cognito.get().global_sign_out(AccessToken=access_token)
        except ClientError as error:
            if aws.error_code(error) != "NotAuthorizedException":
                raise
