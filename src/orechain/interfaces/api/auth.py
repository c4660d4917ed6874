"""Who may call the API: bearer tokens with roles, public or protected reads, CORS.

* :class:`AccessMiddleware` (pure ASGI, outside the response cache) reads ``Authorization: Bearer <token>``
  on every ``/api/v1`` request. A token that is sent must be valid (else 401, also on public reads). With
  ``ORECHAIN_API_READ_TOKEN_REQUIRED=true`` every API request but ``/api/v1/health`` and the OpenAPI
  description needs one (the dashboard's pages load without, and send the token the user enters).
  Submitting a scenario job needs the role ``ORECHAIN_API_JOB_ROLE``.
* :func:`require` is the dependency of write endpoints: a token of at least the given role (401 without a
  valid token, 403 with too small a role). It also declares the bearer scheme in the OpenAPI description.
* CORS is closed unless ``ORECHAIN_API_CORS_ORIGINS`` names origins.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from orechain import settings
from orechain.access.users import Principal, Role, authenticate
from orechain.evidence.store import Store
from orechain.interfaces.api.errors import ApiError, error_response

__all__ = ["AccessConfig", "AccessMiddleware", "install_access", "principal_of", "require"]

_SCOPE_KEY = "orechain.principal"
_OPEN_PREFIXES = ("/openapi.json", "/api/docs", "/static/", "/vendor/")
_BEARER = HTTPBearer(auto_error=False, description="An API token from `orechain users token NAME`")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class AccessConfig:
    """The access settings an app runs with (from the environment by default, see docs/settings.md)."""

    read_token_required: bool = False
    job_role: Role | None = None
    cors_origins: tuple[str, ...] = ()
    max_upload_bytes: int = 1 << 20

    @property
    def max_body_bytes(self) -> int:
        """The request body cap that lets the largest allowed upload through (JSON may escape characters)."""
        return 2 * self.max_upload_bytes + 64 * 1024

    @classmethod
    def from_settings(cls) -> AccessConfig:
        def flag(s: settings.Setting) -> bool:
            value = (s.get() or "").strip().lower()
            if value not in _TRUE | _FALSE:
                raise ValueError(f"{s.env}={value!r}: use true or false")
            return value in _TRUE

        job = (settings.API_JOB_ROLE.get() or "none").strip().lower()
        if job != "none" and job not in {r.value for r in Role}:
            raise ValueError(f"{settings.API_JOB_ROLE.env}={job!r}: use none, viewer, editor or admin")
        size = (settings.API_MAX_UPLOAD_BYTES.get() or "").strip()
        if not size.isdigit() or int(size) < 1:
            raise ValueError(f"{settings.API_MAX_UPLOAD_BYTES.env}={size!r}: use a positive number of bytes")
        origins = tuple(o.strip().rstrip("/") for o in (settings.API_CORS_ORIGINS.get() or "").split(",") if o.strip())
        if "*" in origins:
            raise ValueError(f"{settings.API_CORS_ORIGINS.env}: name the origins; '*' is not accepted")
        return cls(read_token_required=flag(settings.API_READ_TOKEN_REQUIRED),
                   job_role=None if job == "none" else Role(job), cors_origins=origins, max_upload_bytes=int(size))


def _bearer(scope: Any) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return None


def _unauthorized(message: str) -> Any:
    return error_response(401, message, code="unauthorized", headers={"WWW-Authenticate": "Bearer"})


class AccessMiddleware:
    """Checks the bearer token (if any) once per request and keeps the principal in the ASGI scope."""

    def __init__(self, app: Any, store: Store, config: AccessConfig, prefix: str) -> None:
        self.app, self.store, self.config, self.prefix = app, store, config, prefix

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        token = _bearer(scope)
        principal: Principal | None = None
        if token is not None:
            principal = await run_in_threadpool(authenticate, self.store, token) if token else None
            if principal is None:
                await _unauthorized("invalid, expired or revoked API token")(scope, receive, send)
                return
        scope[_SCOPE_KEY] = principal
        # the dashboard's HTML shells hold no data (their scripts read /api/v1 with the token the page keeps)
        open_path = path == self.prefix + "/health" or path.startswith(_OPEN_PREFIXES) or \
            (path != self.prefix and not path.startswith(self.prefix + "/"))
        if principal is None and self.config.read_token_required and not open_path:
            await _unauthorized("this server needs an API token for every request "
                                "(Authorization: Bearer <token>)")(scope, receive, send)
            return
        job = self.config.job_role
        if job is not None and scope["method"] == "POST" and path == self.prefix + "/scenarios/jobs":
            if principal is None:
                await _unauthorized(f"submitting a scenario job needs an API token ({job.value} or above)")(
                    scope, receive, send)
                return
            if not principal.role.allows(job):
                await error_response(403, f"submitting a scenario job needs the role {job.value}; "
                                          f"{principal.user} is {principal.role.value}", code="forbidden")(
                    scope, receive, send)
                return
        await self.app(scope, receive, send)


def principal_of(request: Request) -> Principal | None:
    p: Principal | None = request.scope.get(_SCOPE_KEY)
    return p


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller's principal, which must hold ``role`` or above."""

    async def dependency(request: Request,
                         _credentials: HTTPAuthorizationCredentials | None = Depends(_BEARER)) -> Principal:
        if _SCOPE_KEY in request.scope:
            principal = principal_of(request)
        else:  # an app without the middleware: check here
            token = _bearer(request.scope)
            principal = await run_in_threadpool(authenticate, request.app.state.orechain.store, token) \
                if token else None
        if principal is None:
            raise StarletteHTTPException(401, f"this needs an API token with the role {role.value} or above "
                                              "(Authorization: Bearer <token>)", headers={"WWW-Authenticate": "Bearer"})
        if not principal.role.allows(role):
            raise ApiError(403, f"this needs the role {role.value}; {principal.user} is {principal.role.value}",
                           code="forbidden")
        return principal

    return dependency


def install_access(app: FastAPI, store: Store, config: AccessConfig, prefix: str) -> None:
    """Add the write endpoints, the token check and (when origins are set) CORS to ``app``.

    Call it after the app's other middleware so that the token check runs before the response cache.
    """
    from orechain.interfaces.api import routes_write

    app.include_router(routes_write.build_router(config), prefix=prefix)
    app.add_middleware(AccessMiddleware, store=store, config=config, prefix=prefix)
    if config.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(config.cors_origins),
                           allow_methods=["GET", "POST", "PATCH"],
                           allow_headers=["Authorization", "Content-Type", "Accept"], max_age=600)
