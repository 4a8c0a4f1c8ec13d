"""Settings from environment variables; the README lists every one."""

from __future__ import annotations

import functools
import ipaddress
import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

ENV_PREFIX = "CONGRESS_"
MIN_SECRET_KEY_LENGTH = 32


class Settings(msgspec.Struct, frozen=True):
    var_dir: Path
    database_url: str
    public_url: str
    secret_key: str
    redis_url: str | None
    host: str
    port: int
    default_language: str
    timezone: str
    db_pool_size: int
    debug: bool
    turnout_interval: float = 2.0
    # Reverse proxies whose X-Forwarded-For is believed (addresses or networks, normalised).
    trusted_proxies: tuple[str, ...] = ()
    # Rate limits set by the operator: (name, attempts, seconds), over congress.ratelimit.LIMITS.
    rate_limits: tuple[tuple[str, int, float], ...] = ()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path:
        return Path(urlsplit(self.database_url).path.removeprefix("/"))

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")


class UnsafeSettings(SystemExit):
    """The settings would serve the public badly: the app refuses to start.

    A SystemExit, so that every way of starting the app (``congress serve``, uvicorn, the
    Litestar CLI) stops with this message and a non-zero status instead of a traceback.
    """


def check_settings(settings: Settings) -> None:
    """Refuses what is fine on a laptop but dangerous once the public URL is https: a guessable
    secret (it signs the CSRF tokens) and debug mode (it shows stack traces to anyone)."""
    if not settings.secure_cookies:
        return
    problems = []
    if len(settings.secret_key) < MIN_SECRET_KEY_LENGTH:
        problems.append(
            f"{ENV_PREFIX}SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters; "
            f"unset it to have one generated, or set a long random one "
            f"(python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    if settings.debug:
        problems.append(
            f"{ENV_PREFIX}DEBUG is on: error pages would show stack traces; set it to 0."
        )
    if problems:
        raise UnsafeSettings(
            f"Refusing to start with {ENV_PREFIX}PUBLIC_URL={settings.public_url}:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
        )


class InvalidSetting(SystemExit):
    """A setting that cannot be read: the app refuses to start and says which and why."""


def _trusted_proxies(value: str) -> tuple[str, ...]:
    """ "10.0.0.1, 10.1.0.0/16, ::1" -> the networks, written the standard way."""
    networks = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise InvalidSetting(
                f"{ENV_PREFIX}TRUSTED_PROXIES: {item!r} is not an IP address or network "
                f"(e.g. 10.0.0.5 or 10.0.0.0/24)."
            ) from None
    return tuple(networks)


_RATE_LIMIT = re.compile(r"^([a-z_]+)=(\d{1,9})/(\d{1,6}(?:\.\d+)?)$")


def _rate_limits(value: str) -> tuple[tuple[str, int, float], ...]:
    """ "checkin_scans=1200/60, card_lookup=40/60" -> (name, attempts, seconds) for each."""
    from congress.ratelimit import LIMITS

    limits = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        match = _RATE_LIMIT.match(item.replace(" ", ""))
        if not match or match.group(1) not in LIMITS or float(match.group(3)) <= 0:
            raise InvalidSetting(
                f"{ENV_PREFIX}RATE_LIMITS: {item!r} is not NAME=COUNT/SECONDS with NAME one of "
                f"{', '.join(LIMITS)} (e.g. checkin_scans=1200/60)."
            )
        limits.append((match.group(1), int(match.group(2)), float(match.group(3))))
    return tuple(limits)


def _env(name: str, default: str = "") -> str:
    return os.environ.get(ENV_PREFIX + name, default).strip()


def _secret_key(var_dir: Path) -> str:
    """The secret from the environment, else one kept under var/, made on first start."""
    given = _env("SECRET_KEY")
    if given:
        return given
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once must not both write a key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(key)
    return key


def load_settings() -> Settings:
    var_dir = Path(_env("VAR_DIR", "var")).resolve()
    database_url = _env("DATABASE_URL") or f"sqlite:///{var_dir / 'congress.sqlite3'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url.removeprefix("postgres://")
    return Settings(
        var_dir=var_dir,
        database_url=database_url,
        public_url=(_env("PUBLIC_URL") or "http://localhost:8000").rstrip("/"),
        secret_key=_secret_key(var_dir),
        redis_url=_env("REDIS_URL") or None,
        host=_env("HOST", "127.0.0.1"),
        port=int(_env("PORT", "8000")),
        default_language=_env("LANGUAGE", "vi"),
        timezone=_env("TIMEZONE", "Asia/Ho_Chi_Minh"),
        db_pool_size=int(_env("DB_POOL_SIZE", "10")),
        debug=_env("DEBUG", "0").lower() in {"1", "true", "yes"},
        turnout_interval=float(_env("TURNOUT_INTERVAL", "2")),
        trusted_proxies=_trusted_proxies(_env("TRUSTED_PROXIES")),
        rate_limits=_rate_limits(_env("RATE_LIMITS")),
    )


@functools.cache
def get_settings() -> Settings:
    return load_settings()
