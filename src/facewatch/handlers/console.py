"""ConsolePagesFunction and ConsoleActionsFunction: the alert console behind API Gateway's HTTP API.

One module, two functions with their own roles (least privilege per route): CONSOLE_ROUTES=pages serves
sign-in, the alert list, the alert page, media links and replay sessions; CONSOLE_ROUTES=actions serves
the triage forms. Each route reads the request, asks ConsoleService, and renders a page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from typing import Any, Literal
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from aws_lambda_powertools.utilities.typing import LambdaContext

from facewatch.adapters.alert_records import AlertRecords, InvalidCursorError
from facewatch.adapters.audit_log import AuditLog, AuditWriteError
from facewatch.adapters.face_collection import FaceCollection
from facewatch.adapters.media_links import MediaLinks, MediaUnavailableError
from facewatch.adapters.search_index import AlertIndex
from facewatch.adapters.sign_in import CognitoSignIn, SignedOutError, SignInRefusedError, SignInStep
from facewatch.config import (
    ConsoleActionsSettings,
    ConsolePagesSettings,
    console_actions_settings,
    console_pages_settings,
)
from facewatch.domain import console_pages as pages
from facewatch.domain.alert_record import Resolution
from facewatch.domain.audit import AuditAction
from facewatch.domain.console_session import (
    SECURITY_HEADERS,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    SIGN_IN_STATE_SECONDS,
    SignInState,
    content_security_policy,
    cookies_of,
    csrf_token,
    csrf_valid,
    may_act,
    may_view,
    same_origin,
)
from facewatch.observability import logger, tracer
from facewatch.services.console import AlertNotFoundError, ConsoleService, Viewer, alert_filter

Routes = Literal["pages", "actions"]
HTML = "text/html; charset=utf-8"
SIGN_IN_MESSAGES = {
    "NotAuthorizedException": "Wrong user name or password, or the sign-in took too long: start again.",
    "UserNotFoundException": "Wrong user name or password.",
    "CodeMismatchException": "That code is not the one your authenticator app shows now.",
    "InvalidPasswordException": "The new password does not meet the pool's password policy.",
    "ExpiredCodeException": "That code has expired: enter the current one.",
    "PasswordResetRequiredException": "Your password must be reset by an administrator.",
    "TooManyRequestsException": "Too many attempts: wait a minute.",
    "LimitExceededException": "Too many attempts: wait a minute.",
}


def build_console_service(
    settings: ConsolePagesSettings, *, collection: FaceCollection | None = None
) -> ConsoleService:
    """The service of one function: the actions function's settings add the collection and the index."""
    actions = settings if isinstance(settings, ConsoleActionsSettings) else None
    if actions and actions.employee_collection_id and collection is None:
        collection = FaceCollection(actions.employee_collection_id)
    base_url = actions.opensearch_url if actions else None
    return ConsoleService(
        records=AlertRecords(settings.alert_record_table_name),
        media=MediaLinks(settings.clip_bucket_name, data_endpoint_override=settings.kvs_data_endpoint_override),
        audit=AuditLog(settings.audit_bucket_name),
        link_expiry_seconds=settings.media_link_expiry_seconds,
        collection=collection,
        clip_bucket=settings.clip_bucket_name,
        quality_filter=actions.enrol_quality_filter if actions else "AUTO",
        index=AlertIndex(base_url, actions.opensearch_index, settings.aws_region) if actions and base_url else None,
    )


class ConsoleApp:
    """The routes of one function. `secure_cookies` is False only for the local console on plain http."""

    def __init__(
        self,
        routes: Routes,
        *,
        service: Callable[[], ConsoleService],
        sign_in: Callable[[], CognitoSignIn],
        secure_cookies: bool = True,
    ) -> None:
        self.resolver = APIGatewayHttpResolver()
        self._service = service
        self._sign_in = sign_in
        self._secure = secure_cookies
        if routes == "pages":
            self._pages_routes()
        else:
            self._action_routes()
        self.resolver.not_found()(self._not_found)

    # --- plumbing -------------------------------------------------------------------------------

    @property
    def _event(self) -> Any:
        return self.resolver.current_event

    def _source_ip(self) -> str:
        return str(self._event.request_context.http.source_ip or "")

    def _form(self) -> dict[str, str]:
        body = self._event.decoded_body or ""
        return {key: values[0] for key, values in parse_qs(body, keep_blank_values=True).items()}

    def _cookies(self) -> dict[str, str]:
        return cookies_of(self._event.cookies)

    def _cookie(self, name: str, value: str, max_age: int) -> Cookie:
        return Cookie(
            name=name,
            value=value,
            path="/",
            secure=self._secure,
            http_only=True,
            max_age=max_age,
            same_site=SameSite.STRICT_MODE,
        )

    def _html(
        self,
        body: str,
        status: int = 200,
        *,
        media: tuple[str | None, ...] = (),
        cookies: list[Cookie] | None = None,
    ) -> Response[str]:
        origins = [origin for url in media if (origin := pages.media_origin(url))]
        headers = {**SECURITY_HEADERS, "Content-Security-Policy": content_security_policy(origins)}
        return Response(status_code=status, content_type=HTML, body=body, headers=headers, cookies=cookies or [])

    def _redirect(self, location: str, cookies: list[Cookie] | None = None) -> Response[str]:
        headers = {**SECURITY_HEADERS, "Location": location, "Content-Security-Policy": content_security_policy()}
        return Response(status_code=303, content_type=HTML, body="", headers=headers, cookies=cookies or [])

    def _signed_in(self) -> tuple[Viewer, str] | Response[str]:
        """The viewer and their token, or the response that sends them to sign in (or refuses them)."""
        token = self._cookies().get(SESSION_COOKIE)
        if not token:
            return self._redirect("/signin")
        try:
            identity = self._sign_in().identify(token)
        except SignedOutError:
            return self._redirect("/signin", [self._cookie(SESSION_COOKIE, "", 0)])
        if not may_view(identity.groups):
            return self._html(
                pages.error_page("Not allowed", "Your account is in neither viewers nor responders."), 403
            )
        return Viewer(identity.username, identity.groups, self._source_ip()), token

    def _posted(self) -> tuple[Viewer, str, dict[str, str]] | Response[str]:
        """A form post from a signed-in user, from this origin, with the session's CSRF token."""
        signed_in = self._signed_in()
        if isinstance(signed_in, Response):
            return signed_in
        viewer, token = signed_in
        form = self._form()
        if not same_origin(self._event.headers, self._event.headers.get("host", "")) or not csrf_valid(
            token, form.get("csrf")
        ):
            return self._html(pages.error_page("Refused", "The form was not sent from this console."), 403)
        return viewer, token, form

    def _audit_failed(
        self, error: AuditWriteError, viewer: Viewer | None = None, token: str | None = None
    ) -> Response[str]:
        logger.error("audit entry not written: request refused", extra={"error": str(error)})
        message = "Your request could not be recorded in the audit log, so it was not carried out. Try again later."
        page = pages.error_page(
            "Not recorded",
            message,
            username=viewer.username if viewer else None,
            csrf=csrf_token(token) if token else None,
        )
        return self._html(page, 503)

    def _not_found(self, _error: Exception) -> Response[str]:
        return self._html(pages.error_page("Not found", "There is no such page."), 404)

    # --- pages, sign-in, media --------------------------------------------------------------------

    def _pages_routes(self) -> None:
        r = self.resolver
        r.get("/")(lambda: self._redirect("/alerts"))
        r.get("/static/console.css")(self.stylesheet)
        r.get("/signin")(self.sign_in_form)
        r.post("/signin")(self.sign_in_start)
        r.post("/signin/new-password")(self.sign_in_new_password)
        r.post("/signin/mfa-setup")(self.sign_in_mfa_setup)
        r.post("/signin/mfa")(self.sign_in_mfa)
        r.post("/signout")(self.sign_out)
        r.get("/alerts")(self.alert_list)
        r.get("/alerts/<alert_id>")(self.alert)
        r.post("/alerts/<alert_id>/replay")(self.replay)

    def stylesheet(self) -> Response[str]:
        headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"}
        return Response(status_code=200, content_type="text/css; charset=utf-8", body=pages.STYLESHEET, headers=headers)

    def sign_in_form(self) -> Response[str]:
        return self._html(pages.sign_in_page())

    def _sign_in_state(self) -> SignInState | None:
        return SignInState.decode(self._cookies().get(SIGN_IN_COOKIE))

    def _after_step(self, username: str, step: SignInStep) -> Response[str]:
        if step.access_token:
            try:
                self._service().record_event(None, AuditAction.SIGN_IN, "console", self._source_ip(), username=username)
            except AuditWriteError as error:
                self._sign_in().sign_out(step.access_token)
                return self._audit_failed(error)
            cookies = [
                self._cookie(SESSION_COOKIE, step.access_token, step.expires_in_seconds),
                self._cookie(SIGN_IN_COOKIE, "", 0),
            ]
            return self._redirect("/alerts", cookies)
        state = SignInState(username, str(step.challenge), str(step.session), step.secret_code)
        cookie = [self._cookie(SIGN_IN_COOKIE, state.encode(), SIGN_IN_STATE_SECONDS)]
        if step.challenge == "NEW_PASSWORD_REQUIRED":
            return self._html(pages.new_password_page(), cookies=cookie)
        if step.challenge == "MFA_SETUP":
            return self._html(pages.mfa_setup_page(str(step.secret_code), username), cookies=cookie)
        return self._html(pages.mfa_page(), cookies=cookie)

    def _refused(self, username: str, error: SignInRefusedError, page: str, status: int = 401) -> Response[str]:
        try:
            self._service().record_event(
                None, AuditAction.SIGN_IN_FAILED, "console", self._source_ip(), username=username, code=error.code
            )
        except AuditWriteError as audit_error:
            return self._audit_failed(audit_error)
        return self._html(page, status)

    def _sign_in_origin_ok(self) -> bool:
        return same_origin(self._event.headers, self._event.headers.get("host", ""))

    def sign_in_start(self) -> Response[str]:
        form = self._form()
        username = form.get("username", "").strip()[:128]
        if not self._sign_in_origin_ok() or not username:
            return self._html(pages.sign_in_page("Enter your user name and password."), 400)
        try:
            step = self._sign_in().start(username, form.get("password", ""))
        except SignInRefusedError as error:
            return self._refused(username, error, pages.sign_in_page(_sign_in_message(error)))
        return self._after_step(username, step)

    def _continue(self, challenge: str, page: Callable[[SignInState, str], str], answer: str) -> Response[str]:
        state = self._sign_in_state()
        if state is None or state.challenge != challenge or not self._sign_in_origin_ok():
            return self._html(pages.sign_in_page("The sign-in took too long: start again."), 400)
        try:
            if challenge == "NEW_PASSWORD_REQUIRED":
                step = self._sign_in().new_password(state.username, state.session, answer)
            elif challenge == "MFA_SETUP":
                step = self._sign_in().set_up_mfa(state.username, state.session, answer)
            else:
                step = self._sign_in().mfa_code(state.username, state.session, answer)
        except SignInRefusedError as error:
            if error.code == "NotAuthorizedException":  # the challenge's session expired or was used up
                return self._refused(state.username, error, pages.sign_in_page(_sign_in_message(error)))
            return self._refused(state.username, error, page(state, _sign_in_message(error)))
        return self._after_step(state.username, step)

    def sign_in_new_password(self) -> Response[str]:
        return self._continue(
            "NEW_PASSWORD_REQUIRED", lambda _s, msg: pages.new_password_page(msg), self._form().get("new_password", "")
        )

    def sign_in_mfa_setup(self) -> Response[str]:
        return self._continue(
            "MFA_SETUP",
            lambda s, msg: pages.mfa_setup_page(s.secret_code or "", s.username, msg),
            self._form().get("code", "").strip(),
        )

    def sign_in_mfa(self) -> Response[str]:
        return self._continue(
            "SOFTWARE_TOKEN_MFA", lambda _s, msg: pages.mfa_page(msg), self._form().get("code", "").strip()
        )

    def sign_out(self) -> Response[str]:
        posted = self._posted()
        if isinstance(posted, Response):
            return posted
        viewer, token, _ = posted
        try:
            self._service().record_event(viewer, AuditAction.SIGN_OUT, "console")
        except AuditWriteError as error:
            return self._audit_failed(error, viewer, token)
        self._sign_in().sign_out(token)
        return self._redirect("/signin", [self._cookie(SESSION_COOKIE, "", 0)])

    def alert_list(self) -> Response[str]:
        signed_in = self._signed_in()
        if isinstance(signed_in, Response):
            return signed_in
        viewer, token = signed_in
        query = self._event.query_string_parameters or {}
        filters = {name: str(query.get(name, ""))[:256] for name in ("site", "camera", "status", "period")}
        period = int(filters["period"]) if filters["period"].isdigit() else None
        where = alert_filter(filters["site"], filters["camera"], filters["status"], period, time.time())
        try:
            listed = self._service().list_alerts(viewer, where, query.get("cursor"))
        except AuditWriteError as error:
            return self._audit_failed(error, viewer, token)
        except InvalidCursorError:
            return self._redirect("/alerts")
        page = pages.alert_list_page(
            listed.page.records,
            unacknowledged=listed.unacknowledged,
            filters=filters,
            next_cursor=listed.page.cursor,
            username=viewer.username,
            csrf=csrf_token(token),
        )
        return self._html(page)

    def _alert_page(
        self,
        viewer: Viewer,
        token: str,
        alert_id: str,
        message: str | None = None,
        *,
        ok: bool = True,
        reasons: tuple[str, ...] = (),
    ) -> Response[str]:
        try:
            view = self._service().view_alert(viewer, alert_id)
        except AlertNotFoundError:
            page = pages.error_page(
                "Not found",
                "No such alert (or it is past its retention).",
                username=viewer.username,
                csrf=csrf_token(token),
            )
            return self._html(page, 404)
        except AuditWriteError as error:
            return self._audit_failed(error, viewer, token)
        urls = (
            view.crop.url if view.crop else None,
            view.frame.url if view.frame else None,
            view.clip.url if view.clip else None,
        )
        page = pages.alert_page(
            view.record,
            crop_url=urls[0],
            frame_url=urls[1],
            clip_url=urls[2],
            link_minutes=max(1, self._service().link_expiry_seconds // 60),
            can_act=may_act(viewer.groups),
            username=viewer.username,
            csrf=csrf_token(token),
            message=message,
            ok=ok,
            reasons=reasons,
        )
        return self._html(page, media=urls)

    def alert(self, alert_id: str) -> Response[str]:
        signed_in = self._signed_in()
        if isinstance(signed_in, Response):
            return signed_in
        viewer, token = signed_in
        return self._alert_page(viewer, token, alert_id)

    def replay(self, alert_id: str) -> Response[str]:
        posted = self._posted()
        if isinstance(posted, Response):
            return posted
        viewer, token, _ = posted
        try:
            record, link = self._service().replay(viewer, alert_id)
        except AlertNotFoundError:
            return self._html(pages.error_page("Not found", "No such alert."), 404)
        except AuditWriteError as error:
            return self._audit_failed(error, viewer, token)
        except MediaUnavailableError as error:
            return self._alert_page(
                viewer, token, alert_id, f"The replay could not be started ({error.code}).", ok=False
            )
        page = pages.replay_page(
            record, link.url, link.expires_in_seconds // 60, username=viewer.username, csrf=csrf_token(token)
        )
        return self._html(page, media=(link.url,))

    # --- triage ---------------------------------------------------------------------------------

    def _action_routes(self) -> None:
        self.resolver.post("/alerts/<alert_id>/acknowledge")(self.acknowledge)
        self.resolver.post("/alerts/<alert_id>/resolve")(self.resolve)

    def _responder(self) -> tuple[Viewer, str, dict[str, str]] | Response[str]:
        posted = self._posted()
        if isinstance(posted, Response):
            return posted
        viewer, token, form = posted
        if not may_act(viewer.groups):
            page = pages.error_page(
                "Not allowed", "Only responders may act on alerts.", username=viewer.username, csrf=csrf_token(token)
            )
            return self._html(page, 403)
        return viewer, token, form

    def acknowledge(self, alert_id: str) -> Response[str]:
        responder = self._responder()
        if isinstance(responder, Response):
            return responder
        viewer, token, form = responder
        try:
            outcome = self._service().acknowledge(viewer, alert_id, form.get("note", ""))
        except AlertNotFoundError:
            return self._html(pages.error_page("Not found", "No such alert."), 404)
        except AuditWriteError as error:
            return self._audit_failed(error, viewer, token)
        return self._alert_page(viewer, token, alert_id, outcome.message, ok=outcome.done, reasons=outcome.reasons)

    def resolve(self, alert_id: str) -> Response[str]:
        responder = self._responder()
        if isinstance(responder, Response):
            return responder
        viewer, token, form = responder
        try:
            resolution = Resolution(form.get("resolution", ""))
        except ValueError:
            return self._alert_page(viewer, token, alert_id, "Choose what the face is.", ok=False)
        try:
            outcome = self._service().resolve(
                viewer, alert_id, resolution, form.get("note", ""), form.get("employee_id", "").strip() or None
            )
        except AlertNotFoundError:
            return self._html(pages.error_page("Not found", "No such alert."), 404)
        except AuditWriteError as error:
            return self._audit_failed(error, viewer, token)
        return self._alert_page(viewer, token, alert_id, outcome.message, ok=outcome.done, reasons=outcome.reasons)


def _sign_in_message(error: SignInRefusedError) -> str:
    return SIGN_IN_MESSAGES.get(error.code, f"The sign-in was refused ({error.code}).")


@cache
def pages_app() -> ConsoleApp:
    settings = console_pages_settings()
    service = cache(lambda: build_console_service(settings))
    return ConsoleApp("pages", service=service, sign_in=cache(lambda: CognitoSignIn(settings.user_pool_client_id)))


@cache
def actions_app() -> ConsoleApp:
    settings = console_actions_settings()
    service = cache(lambda: build_console_service(settings))
    return ConsoleApp("actions", service=service, sign_in=cache(lambda: CognitoSignIn(settings.user_pool_client_id)))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def pages_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return pages_app().resolver.resolve(event, context)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def actions_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return actions_app().resolver.resolve(event, context)
