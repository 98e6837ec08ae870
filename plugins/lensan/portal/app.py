"""The portal's routes (FastAPI). Pages are for one account each: a unit's pages under /unit/<code>,
a province's under /province/<code>; any other account gets 403 (and an audit row)."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from openpyxl.utils import get_column_letter
from starlette.concurrency import run_in_threadpool

from lensan import settings
from lensan.calendar import periods
from lensan.portal import audit, codes, form_template, pages, queries, security, uploads
from lensan.settings import LOCAL_TZ

ERRORS = {
    403: ("Không có quyền", "Trang này thuộc về đơn vị hoặc tỉnh khác.", "This page belongs to another unit or province."),
    404: ("Không tìm thấy", "Không có trang này.", "No such page."),
    413: ("Tệp quá lớn", "Tệp vượt giới hạn dung lượng cho phép.", "The file is over the size limit."),
    429: ("Quá nhiều yêu cầu", "Bạn đã thử quá nhiều lần. Hãy đợi một phút rồi thử lại.",
          "Too many attempts. Wait a minute and try again."),
    400: ("Yêu cầu không hợp lệ", "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ; hãy tải lại trang.",
          "The session expired or the form is not valid (CSRF check); reload the page."),
}


def _now() -> dt.datetime:
    return dt.datetime.now(tz=LOCAL_TZ)


def current_week(now: dt.datetime | None = None) -> str:
    """The week reported now: the last complete week (its deadline is this Thursday 14:00)."""
    return periods.last_complete_week(now or _now())


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def create_app(secure_cookies: bool | None = None) -> FastAPI:
    """The portal. `secure_cookies` None: Secure unless LENSAN_PORTAL_INSECURE_COOKIES; False only for a
    server on the loopback over plain http (`server.running`: tests, demo, benchmark)."""
    config = settings.load()
    secure = not config.portal_insecure_cookies if secure_cookies is None else secure_cookies
    sessions = security.Sessions(security.secret_key())
    sign_in_bucket = security.TokenBucket(config.portal_signin_per_min)
    upload_bucket = security.TokenBucket(config.portal_uploads_per_min)
    app = FastAPI(title="lensan portal", docs_url=None, redoc_url=None, openapi_url=None)

    def session_of(request: Request) -> dict:
        return sessions.load(request.cookies.get(security.COOKIE))

    def account_of(request: Request) -> codes.Account | None:
        ref = session_of(request).get("ref")
        return codes.account_for(ref) if ref else None

    def page(request: Request, template: str, status: int = 200, session: dict | None = None,
             account: codes.Account | None = None, **context) -> HTMLResponse:
        session = session if session is not None else session_of(request)
        fresh = not session.get("csrf")
        if fresh:
            session = security.new_session(session.get("ref"))
        name = queries.account_name(account.kind, account.code) if account else None
        html = pages.render(template, account=account, account_name=name, csrf=session["csrf"],
                            letters=lambda c: get_column_letter(c + 1), **context)
        response = HTMLResponse(html, status_code=status)
        if fresh:
            response.set_cookie(security.COOKIE, sessions.dump(session), **security.cookie_options(secure))
        return response

    def error(request: Request, status: int, account=None) -> HTMLResponse:
        title, vi, en = ERRORS[status]
        return page(request, "error.html", status=status, account=account, code=status, title_vi=title,
                    message_vi=vi, message_en=en)

    def guard(request: Request, kind: str, code: str):
        """The signed-in account when the page is its own; else a response (sign-in or 403)."""
        account = account_of(request)
        if account is None:
            return None, RedirectResponse("/sign-in", status_code=303)
        if account.kind != kind or account.code != code:
            audit.record("denied", "forbidden", account=account, client_ip=_client(request))
            return None, error(request, 403, account)
        return account, None

    async def too_large(scope, receive, send):
        title, vi, en = ERRORS[413]
        body = pages.render("error.html", account=None, csrf="", code=413, title_vi=title, message_vi=vi,
                            message_en=en).encode("utf-8")
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    @app.get("/static/portal.css")
    def stylesheet() -> Response:
        return Response(pages.stylesheet(), media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    @app.get("/healthz")
    def health() -> Response:
        return Response("ok", media_type="text/plain")

    @app.get("/")
    def home(request: Request):
        account = account_of(request)
        if account is None:
            return RedirectResponse("/sign-in", status_code=303)
        return RedirectResponse(f"/{account.kind}/{account.code}", status_code=303)

    @app.get("/sign-in")
    def sign_in_page(request: Request):
        return page(request, "sign_in.html")

    @app.post("/sign-in")
    async def sign_in(request: Request):
        client = _client(request)
        if not sign_in_bucket.take(client or "?"):
            audit.record("sign_in", "rate_limited", client_ip=client)
            return error(request, 429)
        form = await request.form(max_files=0, max_fields=5)
        session = session_of(request)
        if not security.csrf_ok(session, form.get("csrf")):
            audit.record("sign_in", "csrf", client_ip=client)
            return error(request, 400)
        try:
            account = await run_in_threadpool(codes.verify, str(form.get("code") or ""))
        except codes.CodeError as exc:
            audit.record("sign_in", exc.outcome, code_ref=codes.normalise(str(form.get("code") or ""))[0] or None,
                         client_ip=client)
            vi = {"revoked": "Mã truy cập này đã bị thu hồi. / This access code was revoked.",
                  "expired": "Mã truy cập này đã hết hạn. / This access code has expired."}.get(
                exc.outcome, "Mã truy cập không đúng. / The access code is not valid.")
            return page(request, "sign_in.html", status=401, session=session, error=vi)
        audit.record("sign_in", "ok", account=account, client_ip=client)
        response = RedirectResponse(f"/{account.kind}/{account.code}", status_code=303)
        response.set_cookie(security.COOKIE, sessions.dump(security.new_session(account.code_ref)),
                            **security.cookie_options(secure))
        return response

    @app.post("/sign-out")
    async def sign_out(request: Request):
        form = await request.form(max_files=0, max_fields=5)
        session = session_of(request)
        if not security.csrf_ok(session, form.get("csrf")):
            return error(request, 400)
        account = account_of(request)
        if account:
            audit.record("sign_out", "ok", account=account, client_ip=_client(request))
        response = RedirectResponse("/sign-in", status_code=303)
        response.delete_cookie(security.COOKIE, path="/")
        return response

    @app.get("/unit/{code}")
    def unit_home(request: Request, code: str):
        account, denied = guard(request, "unit", code)
        if denied:
            return denied
        week = current_week()
        return page(request, "unit.html", account=account, week_line=form_template.week_line(week),
                    deadline=periods.weekly_deadline(week), template_name=form_template.file_name(code, week),
                    max_mb=f"{settings.load().portal_max_upload_mb:g}")

    @app.get("/unit/{code}/template")
    def template(request: Request, code: str):
        account, denied = guard(request, "unit", code)
        if denied:
            return denied
        name = form_template.file_name(code, week := current_week())
        data = form_template.blank_form(code, queries.unit_name(code), week)
        audit.record("template", "ok", account=account, week_key=week, client_ip=_client(request))
        return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @app.post("/unit/{code}/upload")
    async def upload(request: Request, code: str):
        account, denied = guard(request, "unit", code)
        if denied:
            return denied
        client = _client(request)
        if not upload_bucket.take(account.label):
            audit.record("upload", "rate_limited", account=account, client_ip=client)
            return error(request, 429, account)
        try:
            form = await request.form(max_files=1, max_fields=5)
        except security.TooLarge:
            audit.record("upload", "too_large", account=account, client_ip=client)
            return error(request, 413, account)
        session = session_of(request)
        if not security.csrf_ok(session, form.get("csrf")):
            audit.record("upload", "csrf", account=account, client_ip=client)
            return error(request, 400, account)
        item = form.get("file")
        stream = getattr(item, "file", None)
        verdict = await run_in_threadpool(uploads.receive, stream, getattr(item, "filename", None), code)
        earlier = audit.first_accepted(code, verdict.sha256) if verdict.ok else None
        audit.record("upload", "accepted" if verdict.ok else "refused", account=account, reason_code=verdict.code,
                     week_key=verdict.week_key, sha256=verdict.sha256, client_ip=client)
        return page(request, "verdict.html", status=200 if verdict.ok else 422, session=session, account=account,
                    verdict=verdict, earlier=earlier)

    @app.get("/unit/{code}/history")
    def history(request: Request, code: str):
        account, denied = guard(request, "unit", code)
        if denied:
            return denied
        return page(request, "history.html", account=account, weeks=queries.unit_history(code))

    @app.get("/province/{code}")
    def province(request: Request, code: str, week: str | None = None):
        account, denied = guard(request, "province", code)
        if denied:
            return denied
        current = current_week()
        weeks = sorted({current, *queries.province_weeks(code)}, reverse=True)
        chosen = week if week in weeks else current
        return page(request, "province.html", account=account, weeks=weeks,
                    data=queries.province_completeness(code, chosen))

    @app.exception_handler(404)
    async def not_found(request: Request, exc):
        return error(request, 404)

    @app.exception_handler(security.TooLarge)
    async def body_too_large(request: Request, exc):
        return error(request, 413)

    is_upload = lambda path: path.startswith("/unit/") and path.endswith("/upload")   # noqa: E731
    app.add_middleware(security.BodyCap, is_upload=is_upload, on_too_large=too_large)
    app.add_middleware(_Headers)      # outermost: the early 413 of BodyCap gets the headers too
    return app


class _Headers:
    """Security headers on every response; pages are never cached."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [(k.lower().encode(), v.encode()) for k, v in security.HEADERS.items()]
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
