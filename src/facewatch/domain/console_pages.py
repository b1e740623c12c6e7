"""The console's pages, server-rendered: pure functions of what the page shows. No script; one
stylesheet (/static/console.css); every value escaped; forms carry the CSRF token; the layout is one
column on a phone and every control is a link, a button or a form field, so it works by keyboard."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from html import escape
from urllib.parse import urlencode, urlsplit

from facewatch.domain.alert_record import AlertRecord, HistoryEntry, Resolution, TriageStatus
from facewatch.domain.notification import local_time

STATUS_LABELS = {
    TriageStatus.NEW: "New",
    TriageStatus.ACKNOWLEDGED: "Acknowledged",
    TriageStatus.RESOLVED: "Resolved",
}
PERIODS = (("24", "Last 24 hours"), ("168", "Last 7 days"), ("720", "Last 30 days"), ("", "Any time"))


def e(value: object) -> str:
    return escape(str(value), quote=True)


def media_origin(url: str | None) -> str | None:
    """scheme://host[:port] of a minted link, for the page's Content-Security-Policy."""
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("https", "http") and parts.netloc else None


def _utc(epoch: float) -> str:
    return f"{datetime.fromtimestamp(epoch, tz=UTC):%Y-%m-%d %H:%M:%S} UTC"


def _local(record: AlertRecord) -> str:
    return f"{local_time(record.frame_time, record.place.timezone):%Y-%m-%d %H:%M:%S %Z}"


def _status_badge(record: AlertRecord) -> str:
    label = STATUS_LABELS[record.status]
    if record.resolution:
        label += f": {record.resolution.label}"
    return f'<span class="status status-{e(record.status.value)}">{e(label)}</span>'


def layout(title: str, body: str, *, username: str | None = None, csrf: str | None = None) -> str:
    account = ""
    if username and csrf:
        account = (
            f'<form method="post" action="/signout" class="signout"><span>{e(username)}</span>'
            f'<input type="hidden" name="csrf" value="{e(csrf)}">'
            '<button type="submit">Sign out</button></form>'
        )
    return (
        "<!doctype html>"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)} - facewatch</title>"
        '<link rel="stylesheet" href="/static/console.css"></head>'
        '<body><a class="skip" href="#main">Skip to content</a>'
        f'<header><a class="brand" href="/alerts">facewatch</a>{account}</header>'
        f'<main id="main">{body}</main></body></html>'
    )


def message_block(message: str | None, *, ok: bool = True, reasons: Iterable[str] = ()) -> str:
    if not message:
        return ""
    items = "".join(f"<li>{e(reason)}</li>" for reason in reasons)
    detail = f"<ul>{items}</ul>" if items else ""
    kind = "ok" if ok else "error"
    return f'<div class="message {kind}" role="{"status" if ok else "alert"}">{e(message)}{detail}</div>'


def sign_in_page(error: str | None = None) -> str:
    body = (
        "<h1>Sign in</h1>" + message_block(error, ok=False) + '<form method="post" action="/signin" class="card">'
        '<label for="username">User name</label>'
        '<input id="username" name="username" autocomplete="username" required autofocus>'
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password" required>'
        '<button type="submit">Sign in</button></form>'
        '<p class="hint">Accounts are created by the console\'s administrators; every sign-in needs the code '
        "of your authenticator app.</p>"
    )
    return layout("Sign in", body)


def new_password_page(error: str | None = None) -> str:
    body = (
        "<h1>Choose a new password</h1>"
        + message_block(error, ok=False)
        + '<form method="post" action="/signin/new-password" class="card">'
        '<label for="new_password">New password</label>'
        '<input id="new_password" name="new_password" type="password" autocomplete="new-password" required autofocus>'
        '<button type="submit">Set password</button></form>'
    )
    return layout("New password", body)


def mfa_setup_page(secret_code: str, username: str, error: str | None = None) -> str:
    uri = f"otpauth://totp/facewatch:{username}?{urlencode({'secret': secret_code, 'issuer': 'facewatch'})}"
    body = (
        "<h1>Set up your authenticator app</h1>"
        + message_block(error, ok=False)
        + '<div class="card"><p>Add an account to your authenticator app with this key (time-based), then '
        "enter the code it shows.</p>"
        f'<p class="secret"><code id="secret">{e(secret_code)}</code></p>'
        f'<p class="hint"><a href="{e(uri)}">Open in an authenticator app on this device</a></p>'
        '<form method="post" action="/signin/mfa-setup">'
        '<label for="code">Code from the app</label>'
        '<input id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" autocomplete="one-time-code" '
        "required autofocus>"
        '<button type="submit">Verify and sign in</button></form></div>'
    )
    return layout("Authenticator", body)


def mfa_page(error: str | None = None) -> str:
    body = (
        "<h1>Authenticator code</h1>"
        + message_block(error, ok=False)
        + '<form method="post" action="/signin/mfa" class="card">'
        '<label for="code">Code from your authenticator app</label>'
        '<input id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" autocomplete="one-time-code" '
        "required autofocus>"
        '<button type="submit">Sign in</button></form>'
    )
    return layout("Authenticator code", body)


def _select(name: str, label: str, options: Iterable[tuple[str, str]], chosen: str) -> str:
    rendered = "".join(
        f'<option value="{e(value)}"{" selected" if value == chosen else ""}>{e(text)}</option>'
        for value, text in options
    )
    return f'<label for="{name}">{e(label)}</label><select id="{name}" name="{name}">{rendered}</select>'


def alert_list_page(
    records: Iterable[AlertRecord],
    *,
    unacknowledged: int,
    filters: dict[str, str],
    next_cursor: str | None,
    username: str,
    csrf: str,
) -> str:
    rows = []
    for record in records:
        rows.append(
            "<tr>"
            f'<td><a href="/alerts/{e(record.alert_id)}">{e(_local(record))}</a>'
            f'<div class="sub">{e(_utc(record.frame_time))}</div></td>'
            f'<td>{e(record.place.label)}<div class="sub">{e(record.place.where or "")}</div></td>'
            f"<td>{record.confidence:.1f}%</td>"
            f"<td>{_status_badge(record)}</td>"
            "</tr>"
        )
    table = (
        '<div class="table"><table><caption class="visually-hidden">Alerts, newest first</caption>'
        '<thead><tr><th scope="col">Time (camera\'s zone)</th><th scope="col">Camera</th>'
        '<th scope="col">Confidence</th><th scope="col">Status</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        if rows
        else '<p class="empty">No alerts match.</p>'
    )
    statuses = [("", "Any status"), *((s.value, label) for s, label in STATUS_LABELS.items())]
    form = (
        '<form method="get" action="/alerts" class="filters">'
        f'<div class="field"><label for="site">Site</label>'
        f'<input id="site" name="site" value="{e(filters.get("site", ""))}"></div>'
        f'<div class="field"><label for="camera">Camera</label>'
        f'<input id="camera" name="camera" value="{e(filters.get("camera", ""))}"></div>'
        f'<div class="field">{_select("status", "Status", statuses, filters.get("status", ""))}</div>'
        f'<div class="field">{_select("period", "Time", PERIODS, filters.get("period", ""))}</div>'
        '<button type="submit">Filter</button></form>'
    )
    paging = ""
    if next_cursor:
        query = urlencode({**{k: v for k, v in filters.items() if v}, "cursor": next_cursor})
        paging = f'<nav class="paging"><a href="/alerts?{e(query)}" rel="next">Older alerts</a></nav>'
    body = (
        '<div class="title"><h1>Alerts</h1>'
        f'<p class="count"><a href="/alerts?status=new"><strong id="unacknowledged">{unacknowledged}</strong> '
        "unacknowledged</a></p></div>" + form + table + paging
    )
    return layout("Alerts", body, username=username, csrf=csrf)


def _history(entries: Iterable[HistoryEntry], timezone: str) -> str:
    items = []
    for entry in entries:
        what: str = entry.action
        if entry.resolution:
            what += f" as {entry.resolution.label.lower()}"
        if entry.employee_id:
            what += f" ({entry.employee_id}, face enrolled)"
        when = f"{local_time(entry.at, timezone):%Y-%m-%d %H:%M %Z}"
        note = f'<div class="note">{e(entry.note)}</div>' if entry.note else ""
        items.append(f'<li><strong>{e(entry.actor)}</strong> {e(what)} <span class="sub">{e(when)}</span>{note}</li>')
    return f'<ol class="history">{"".join(items)}</ol>' if items else '<p class="sub">No action yet.</p>'


def _triage_forms(record: AlertRecord, csrf: str) -> str:
    token = f'<input type="hidden" name="csrf" value="{e(csrf)}">'
    forms = []
    if record.status is TriageStatus.NEW:
        forms.append(
            f'<form method="post" action="/alerts/{e(record.alert_id)}/acknowledge" class="card">{token}'
            "<h3>Acknowledge</h3>"
            '<label for="ack-note">Note (optional)</label><input id="ack-note" name="note" maxlength="1000">'
            '<button type="submit" id="acknowledge">Acknowledge</button></form>'
        )
    if record.status is not TriageStatus.RESOLVED:
        choices = "".join(
            f'<label class="choice"><input type="radio" name="resolution" value="{e(r.value)}" required>'
            f" {e(r.label)}</label>"
            for r in Resolution
        )
        forms.append(
            f'<form method="post" action="/alerts/{e(record.alert_id)}/resolve" class="card">{token}'
            f"<h3>Resolve</h3><fieldset><legend>The face is</legend>{choices}</fieldset>"
            '<label for="employee_id">Employee id (for "Employee": the crop is enrolled for them)</label>'
            '<input id="employee_id" name="employee_id" pattern="[a-zA-Z0-9_.\\-:]{1,255}" autocomplete="off">'
            '<label for="resolve-note">Note (required)</label>'
            '<textarea id="resolve-note" name="note" maxlength="1000" required></textarea>'
            '<button type="submit" id="resolve">Resolve</button></form>'
        )
    return "".join(forms)


def alert_page(
    record: AlertRecord,
    *,
    crop_url: str | None,
    frame_url: str | None,
    clip_url: str | None,
    link_minutes: int,
    can_act: bool,
    username: str,
    csrf: str,
    message: str | None = None,
    ok: bool = True,
    reasons: Iterable[str] = (),
) -> str:
    crop = (
        f'<figure><img id="crop" src="{e(crop_url)}" alt="The face that raised the alert"><figcaption>Face</figcaption>'
        "</figure>"
        if crop_url
        else '<p class="sub">No face crop stored.</p>'
    )
    # The snapshot writer draws the face's box on the frame (facewatch.domain.snapshot_render).
    frame = (
        f'<figure class="frame"><img id="frame" src="{e(frame_url)}" alt="The camera frame, the face boxed">'
        "<figcaption>Frame</figcaption></figure>"
        if frame_url
        else '<p class="sub">No frame stored.</p>'
    )
    clip = (
        f'<video id="clip" controls preload="metadata" src="{e(clip_url)}"></video>'
        f'<p class="sub">The clip\'s link was made for this view and works for {link_minutes} min; reload the page '
        "for a new one.</p>"
        if clip_url
        else f'<p class="sub">No clip: {e(record.clip_reason or "not stored")}.</p>'
    )
    replay = ""
    if record.stream_mode:
        replay = (
            f'<form method="post" action="/alerts/{e(record.alert_id)}/replay">'
            f'<input type="hidden" name="csrf" value="{e(csrf)}">'
            '<button type="submit" id="replay">Watch from the moment of detection</button></form>'
        )
    facts = [
        ("Camera", record.place.label),
        ("Place", record.place.where or "-"),
        ("Local time", f"{_local(record)} ({record.place.timezone})"),
        ("UTC", _utc(record.frame_time)),
        ("Confidence", f"{record.confidence:.1f}% that this is a face; no employee matched"),
        ("Faces", f"{record.unknown_faces} unknown of {record.faces_in_frame} in the frame"),
        ("Latency", f"{record.latency_seconds:.1f} s from frame to notification"),
        ("Alert id", record.alert_id),
    ]
    details = "".join(f"<dt>{e(name)}</dt><dd>{e(value)}</dd>" for name, value in facts)
    actions = _triage_forms(record, csrf) if can_act else '<p class="sub">Viewers cannot act on alerts.</p>'
    body = (
        '<p><a href="/alerts">&larr; All alerts</a></p>'
        f'<div class="title"><h1>{e(record.place.label)}</h1>{_status_badge(record)}</div>'
        + message_block(message, ok=ok, reasons=reasons)
        + f'<section class="media">{crop}{frame}</section>'
        f"<section><h2>Clip</h2>{clip}{replay}</section>"
        f"<section><h2>Details</h2><dl>{details}</dl></section>"
        f"<section><h2>History</h2>{_history(record.history, record.place.timezone)}</section>"
        f'<section class="actions"><h2>Triage</h2>{actions}</section>'
    )
    return layout(record.place.label, body, username=username, csrf=csrf)


def replay_page(record: AlertRecord, url: str, minutes: int, *, username: str, csrf: str) -> str:
    body = (
        f'<p><a href="/alerts/{e(record.alert_id)}">&larr; Back to the alert</a></p>'
        f"<h1>{e(record.place.label)} from {e(_local(record))}</h1>"
        f'<video id="replay-video" controls autoplay src="{e(url)}"></video>'
        f'<p class="sub">An HLS session made for you just now: it plays from 5 s before the detection and '
        f"follows the live video, and works for {minutes} min. Browsers without HLS support can open "
        f'<a href="{e(url)}">the stream</a> in a player such as VLC. Do not share it.</p>'
    )
    return layout("Replay", body, username=username, csrf=csrf)


def error_page(title: str, message: str, *, username: str | None = None, csrf: str | None = None) -> str:
    body = f'<h1>{e(title)}</h1>{message_block(message, ok=False)}<p><a href="/alerts">Back to the alerts</a></p>'
    return layout(title, body, username=username, csrf=csrf)


STYLESHEET = """
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #f6f7f9; --card: #fff; --line: #d0d7de; --accent: #0b5cad;
  --new: #b42318; --ack: #b54708; --res: #027a48; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --card: #161b22; --line: #30363d;
  --accent: #58a6ff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); }
header { display: flex; justify-content: space-between; align-items: center; gap: 1rem; padding: .6rem 1rem;
  background: var(--card); border-bottom: 1px solid var(--line); flex-wrap: wrap; }
.brand { font-weight: 700; text-decoration: none; color: var(--fg); }
.signout { display: flex; gap: .5rem; align-items: center; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: 1rem; background: var(--card); }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
.title { display: flex; align-items: baseline; justify-content: space-between; gap: 1rem; flex-wrap: wrap; }
.count strong { font-size: 1.4rem; }
.card, .filters { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem;
  margin: 0 0 1rem; display: grid; gap: .4rem; max-width: 36rem; }
.card { align-content: start; }
.filters { max-width: none; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr)); align-items: end; }
.field { display: grid; gap: .2rem; } .filters label { font-size: .85rem; }
input, select, textarea, button { font: inherit; padding: .5rem .6rem; border: 1px solid var(--line);
  border-radius: 6px; background: var(--bg); color: var(--fg); min-height: 2.6rem; }
button { background: var(--accent); color: #fff; border: 0; cursor: pointer; font-weight: 600; }
.table { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; background: var(--card); }
th, td { text-align: left; padding: .55rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
.sub { color: #6e7781; font-size: .85rem; }
.status { display: inline-block; padding: .1rem .5rem; border-radius: 999px; font-size: .85rem; color: #fff; }
.status-new { background: var(--new); } .status-acknowledged { background: var(--ack); }
.status-resolved { background: var(--res); }
.media { display: grid; grid-template-columns: minmax(8rem, 1fr) 3fr; gap: 1rem; align-items: start; }
figure { margin: 0; } figure img { width: 100%; height: auto; display: block; border-radius: 6px; }
video { width: 100%; max-height: 60vh; background: #000; border-radius: 6px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; } dt { font-weight: 600; }
dd { margin: 0; }
.history { padding-left: 1.2rem; } .note { white-space: pre-wrap; }
.actions { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); }
.actions h2 { grid-column: 1 / -1; margin-bottom: 0; }
fieldset { border: 0; padding: 0; margin: 0; display: grid; gap: .3rem; }
.choice { display: flex; gap: .5rem; align-items: center; }
.message { padding: .7rem 1rem; border-radius: 6px; margin: 0 0 1rem; }
.message.ok { background: #dafbe1; color: #044f1e; } .message.error { background: #ffebe9; color: #82071e; }
.secret code { font-size: 1.2rem; letter-spacing: .1em; word-break: break-all; }
.paging { margin: 1rem 0; }
@media (max-width: 40rem) {
  .media { grid-template-columns: 1fr; } dl { grid-template-columns: 1fr; }
  th:nth-child(3), td:nth-child(3) { display: none; }
}
"""
