"""How the OpenAPI schemas (drf-spectacular) describe our two credentials."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class UserTokenScheme(OpenApiAuthenticationExtension):
    target_class = "common.auth.authentication.UserTokenAuthentication"
    name = "userToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The access token from POST /api/auth/login (RS256, signed by auth).",
        }


class ServiceTokenScheme(OpenApiAuthenticationExtension):
    target_class = "common.auth.authentication.ServiceTokenAuthentication"
    name = "serviceToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Internal routes only: a service credential with the route's scope.",
        }
