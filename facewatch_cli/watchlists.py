"""`facewatch watchlist add|list|remove`: people on a named list (`banned`, `vip`, `contractors`, ...).

An entry's photos are indexed into the employee collection with ExternalImageId `wl:<list>:<entry id>`,
so the stream processors (and image mode) find them with the employees and the detector tells them apart
by that prefix. Its reason (mandatory) and expiry (mandatory, at most a year) go to PolicyTable, with an
audit item. An expired entry no longer matches; `remove` deletes its faces and its entry.
"""

from __future__ import annotations

import argparse
import itertools
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from botocore.exceptions import ClientError
from pydantic import ValidationError

from facewatch.domain.enrolment import index_request
from facewatch.domain.watchlists import MAX_ENTRY_DAYS, WatchlistEntry, parse_watchlist_image_id, watchlist_image_id
from facewatch_cli import clients, enrolment, faces, output, policy_table, stack_outputs
from facewatch_cli.main import CommandError

DAY_SECONDS = 86_400


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser("watchlist", help="watchlists (banned, vip, ignore lists): add, list, remove")
    commands = group.add_subparsers(dest="command", required=True, metavar="COMMAND")

    add = commands.add_parser("add", help="put a person on a list: index their photos, record why and until when")
    add.add_argument("list", metavar="LIST", help="the list, as a policy's watchlist rule names it (e.g. banned)")
    add.add_argument("entry_id", metavar="ENTRY_ID", help="your reference for the person, e.g. a case number")
    add.add_argument("photos", nargs="+", metavar="PHOTO", help="local JPEG/PNG files or s3://bucket/key objects")
    add.add_argument("--reason", required=True, help="why this person is on the list (kept, and in the audit trail)")
    until = add.add_mutually_exclusive_group(required=True)
    until.add_argument("--days", type=int, help=f"the entry expires after this many days (1-{MAX_ENTRY_DAYS})")
    until.add_argument("--expires", type=date.fromisoformat, metavar="YYYY-MM-DD", help="expires at this date's end")
    add.add_argument("--quality-filter", choices=faces.QUALITY_FILTERS, default="AUTO")
    policy_table.add_arguments(add, stack_outputs.EMPLOYEE_COLLECTION)
    add.set_defaults(run=add_entry)

    list_ = commands.add_parser("list", help="the entries of one list or of all, with reason and expiry")
    list_.add_argument("list", nargs="?", metavar="LIST")
    list_.add_argument("--json", action="store_true")
    policy_table.add_arguments(list_, changes=False)
    list_.set_defaults(run=list_entries)

    remove = commands.add_parser("remove", help="take a person off a list: delete their faces and the entry")
    remove.add_argument("list", metavar="LIST")
    remove.add_argument("entry_id", metavar="ENTRY_ID")
    remove.add_argument("--reason", required=True, help="why (kept in the audit trail)")
    policy_table.add_arguments(remove, stack_outputs.EMPLOYEE_COLLECTION)
    remove.set_defaults(run=remove_entry)


def expiry(args: argparse.Namespace, now: float) -> float:
    if args.days is not None:
        days: int = args.days
        if not 1 <= days <= MAX_ENTRY_DAYS:
            raise CommandError(f"--days must be 1-{MAX_ENTRY_DAYS}: a watchlist entry is renewed, not kept forever")
        return now + int(args.days) * DAY_SECONDS
    end = datetime.combine(args.expires + timedelta(days=1), time(0), tzinfo=UTC).timestamp()
    if end <= now:
        raise CommandError(f"--expires {args.expires} is in the past")
    if end - now > (MAX_ENTRY_DAYS + 1) * DAY_SECONDS:
        raise CommandError(f"--expires is at most {MAX_ENTRY_DAYS} days ahead: a watchlist entry is renewed, not kept")
    return end


def add_entry(args: argparse.Namespace) -> int:
    now = policy_table.now()
    try:
        image_id = watchlist_image_id(args.list, args.entry_id)
    except ValueError as error:
        raise CommandError(f"list and entry id: {error} (list: a-z 0-9 _ -; entry: a-z A-Z 0-9 _ . -)") from None
    expires_at = expiry(args, now)
    by = policy_table.caller(args)
    try:
        draft = WatchlistEntry(
            list=args.list, entry_id=args.entry_id, reason=args.reason, added_at=now, expires_at=expires_at, added_by=by
        )
    except ValidationError as error:
        raise CommandError(f"entry: {error.errors(include_url=False, include_input=False)[0]['msg']}") from None
    store = policy_table.store_of(args)
    collection_id = faces.collection_of(args)
    rekognition = clients.rekognition(args)
    detail: policy_table.Detail = {"reason": args.reason, "expires_at": policy_table.when(expires_at)}
    policy_table.audit(args, "watchlist.add", f"watchlist/{args.list}/{args.entry_id}", detail)
    outcomes = []
    try:
        for photo in enrolment.photos_of(image_id, args.photos):
            outcomes.append(faces.index_photo(rekognition, collection_id, photo, args.quality_filter, index_request))
    except ValueError as error:
        raise CommandError(str(error)) from error
    except ClientError as error:
        raise CommandError(clients.describe(error)) from error
    face_ids = tuple(o.face_id for o in outcomes if o.status == "indexed" and o.face_id)
    for outcome in outcomes:
        if outcome.status != "indexed":
            print(f"  {Path(outcome.photo.label).name}: {outcome.status}: {', '.join(outcome.reasons)}")
    if not face_ids:
        raise CommandError(f"no face of {args.entry_id} could be indexed: nothing added to {args.list}")
    entry = draft.model_copy(update={"face_ids": face_ids})
    clients.aws_errors(store.put_entry)(entry)
    print(f"Added {args.entry_id} to {args.list} ({len(face_ids)} face(s)) until {policy_table.when(expires_at)}.")
    return output.EXIT_ATTENTION if len(face_ids) < len(outcomes) else 0


@clients.aws_errors
def list_entries(args: argparse.Namespace) -> int:
    now = policy_table.now()
    entries = sorted(
        (e for e in policy_table.store_of(args).load_current().entries.values() if args.list in (None, e.list)),
        key=lambda e: (e.list, e.entry_id),
    )
    if args.json:
        output.print_json([{**e.model_dump(), "active": e.active_at(now)} for e in entries])
        return 0
    rows = [
        [e.list, e.entry_id, "active" if e.active_at(now) else "expired", policy_table.when(e.expires_at),
         str(len(e.face_ids)), e.reason]
        for e in entries
    ]  # fmt: skip
    print(output.table(["LIST", "ENTRY", "STATE", "EXPIRES", "FACES", "REASON"], rows))
    print(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}")
    return 0


@clients.aws_errors
def remove_entry(args: argparse.Namespace) -> int:
    store = policy_table.store_of(args)
    collection_id = faces.collection_of(args)
    rekognition = clients.rekognition(args)
    entry = store.load_current().entries.get((args.list, args.entry_id))
    target = f"watchlist/{args.list}/{args.entry_id}"
    policy_table.audit(args, "watchlist.remove", target, {"reason": args.reason})
    # The entry goes first: from then on its faces match nothing, whatever happens to the deletion below.
    if entry is not None:
        store.remove_entry(args.list, args.entry_id)
    listed = faces.faces_by_employee(rekognition, collection_id)
    face_ids = sorted(
        {
            face_id
            for image_id, ids in listed.items()
            if parse_watchlist_image_id(image_id) == (args.list, args.entry_id)
            for face_id in ids
        }
    )
    if entry is None and not face_ids:
        raise CommandError(f"{args.entry_id} is not on {args.list}")
    deleted = 0
    for batch in itertools.batched(face_ids, faces.DELETE_FACES_BATCH):
        response = rekognition.delete_faces(CollectionId=collection_id, FaceIds=list(batch))
        deleted += len(response.get("DeletedFaces", []))
    print(f"Removed {args.entry_id} from {args.list}: entry deleted, {deleted} face(s) deleted from {collection_id}.")
    return 0 if deleted == len(face_ids) else output.EXIT_ATTENTION
