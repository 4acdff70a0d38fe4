"""The ways in: the server's edges (names, sign-in on the network, limits on every way in), users, API tokens
and users' limits."""

from __future__ import annotations

from collections.abc import Sequence


# -- the server's edges: names it answers to, sign-in on the network, limits on every way in ------------------------
def misdirected(host: str) -> str:
    return (
        f"This server does not answer to the name {host!r}. Open it at the address its operator gives "
        "(set in PAPERLINE_PUBLIC_URL)."
    )


def host_refused_log(host: str, names: Sequence[str]) -> str:
    return (
        f"Refused requests for Host {host!r}: this server answers to {', '.join(names) or 'loopback names'} and "
        "loopback names. If analysts open it at that name, add it to PAPERLINE_PUBLIC_URL."
    )


def anonymous_network(address: str) -> str:
    return (
        f"Refusing to serve on {address} without sign-in: everyone who can reach it would be the one local user, "
        "who sees every job and spends the Anthropic credit. Ask users to sign in (after --: "
        "--basic-auth users.json --cookie-secret SECRET, or --oauth-provider NAME with its key and secret), serve "
        "on 127.0.0.1 behind a reverse proxy that signs users in, or pass --allow-anonymous if everyone on this "
        "network may do anything."
    )


def anonymous_network_warning(address: str) -> str:
    return (
        f"Warning: serving on {address} without sign-in (--allow-anonymous): everyone who can reach it sees and "
        "acts on every job as the local user."
    )


def too_many_files(limit: int, name: str = "") -> str:
    rule = f"at most {limit} files in one upload; send the others in another."
    return f"{name}: {rule}" if name else rule.capitalize()


def too_many_at_once(limit: int, name: str) -> str:
    return f"{name}: at most {limit} files are received at once; drop it again when the others have arrived."


def field_too_large(name: str, limit_kb: int) -> str:
    return f"The field {name!r} is over {limit_kb} KB."


def too_many_fields(limit: int) -> str:
    return f"At most {limit} fields besides the files in one upload."


def too_many_requests(wait_s: float) -> str:
    return f"Too many requests; try again in {max(1, round(wait_s))} s."


def upload_refused_mid_transfer(reason: str) -> str:
    return f"{reason} Nothing of it was kept."


def operator_sign_in(what: str) -> str:
    return (
        f"{what} is for this server's admins: send an admin's API token (Authorization: Bearer ...) "
        "or sign in as an admin."
    )


def files_deleted(user: str) -> str:
    return f"Files deleted by {user}; the history is kept. Submit the document again to redo it."


def deleted_files_of(filename: str, job_id: str = "") -> str:
    """What the page and the CLI say once a job's files are deleted (the CLI names the job too)."""
    return f"Deleted the files of {filename}{f' ({job_id})' if job_id else ''}; its history is kept."


def files_gone(job_id: str, why: str) -> str:
    """Why a job has no result to give any more (``why``: the note written when its files went)."""
    return f"The files of job {job_id} are no longer kept. {why}".strip()


def delete_unfinished(job_id: str, status: str) -> str:
    return f"Job {job_id} has not ended ({status}); cancel it first, then delete it."


# -- users -------------------------------------------------------------------------------------------------------
def user_name_reserved(name: str) -> str:
    shown = repr(name) if name.strip() else "an empty name"
    return (
        f"This user name is reserved: no one can sign in or use an API token as {shown}. "
        "Sign in with your own name (no control characters, no surrounding spaces)."
    )


def user_not_allowed(name: str) -> str:
    return f"{name!r} is not a user of this server (PAPERLINE_USERS); ask its operator to add you."


# -- API tokens ----------------------------------------------------------------------------------------------------
TOKEN_UNKNOWN = "This API token is unknown or was revoked."
TOKEN_DIES_WITH_USER = "Its API tokens no longer work."
TOKEN_NEEDS_USER = (
    "A token acts for a signed-in user: name them, e.g. 'paperline token create --user NAME' "
    "(without sign-in, programs need no token)."
)


def token_expired(token_id: str, when: str) -> str:
    return f"This API token ({token_id}) expired on {when}; create a new one."


def bad_token_expiry(text: str) -> str:
    return f"Token expiry {text!r} is not a duration such as 30d, 12h, 2w or 1y (at most 5 years), or 'never'."


# -- users' limits --------------------------------------------------------------------------------------------------
def too_many_active(user: str, active: int, limit: int) -> str:
    return (
        f"Limit reached: {user} already has {active} jobs queued or running (at most {limit} per user). "
        "Upload again when one has finished, or cancel one."
    )


def too_many_uploads(user: str, uploads: int, limit: int, wait_s: float) -> str:
    return (
        f"Limit reached: {user} uploaded {uploads} files in the last hour (at most {limit} per user). "
        f"The next upload is possible in {max(1, round(wait_s / 60))} min."
    )
